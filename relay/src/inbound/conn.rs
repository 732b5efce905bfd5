//! Buffered SMTP I/O over any stream: command lines under a length limit and a deadline for
//! the whole line, raw chunks for DATA, and replies held back until the client's pipelined
//! input is used up (RFC 2920: the server flushes before it would block on a read).

use super::reply::Reply;
use super::shutdown_signal;
use std::io;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::watch;
use tokio::time::Instant;

/// Bytes read from the socket at a time; also the most pipelined input held at once.
const READ_BUFFER: usize = 16 * 1024;
/// Pending replies beyond this are written out even while input is still buffered.
const WRITE_HIGH_WATER: usize = 64 * 1024;

/// Why no (more) input could be had.
#[derive(Debug)]
pub(crate) enum ReadError {
    /// The deadline passed first.
    Timeout,
    /// The client closed the connection.
    Closed,
    /// The server is shutting down and the client was idle.
    Shutdown,
    Io(io::Error),
}

/// The outcome of reading a command line.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Line {
    /// A line, without its line ending.
    Complete,
    /// A line longer than the limit; it was consumed up to its end and dropped.
    TooLong,
}

pub(crate) struct Conn<S> {
    stream: S,
    rbuf: Box<[u8]>,
    start: usize,
    end: usize,
    wbuf: Vec<u8>,
    write_timeout: Duration,
}

impl<S: AsyncRead + AsyncWrite + Unpin> Conn<S> {
    /// `write_timeout` bounds every flush, so a client that stops reading cannot hold the
    /// session forever.
    pub fn new(stream: S, write_timeout: Duration) -> Conn<S> {
        Conn {
            stream,
            rbuf: vec![0; READ_BUFFER].into_boxed_slice(),
            start: 0,
            end: 0,
            wbuf: Vec::with_capacity(512),
            write_timeout,
        }
    }

    /// The stream, with whatever input was buffered dropped.
    pub fn into_inner(self) -> S {
        self.stream
    }

    /// Queues a reply; it is sent at the next flush.
    pub fn reply(&mut self, reply: &Reply) {
        reply.write_to(&mut self.wbuf);
    }

    /// Drops input already received but not yet processed (pipelined after STARTTLS).
    pub fn discard_input(&mut self) -> usize {
        let dropped = self.end - self.start;
        self.start = 0;
        self.end = 0;
        dropped
    }

    /// Sends the queued replies.
    pub async fn flush(&mut self) -> io::Result<()> {
        if self.wbuf.is_empty() {
            return Ok(());
        }
        let write = async {
            self.stream.write_all(&self.wbuf).await?;
            self.stream.flush().await
        };
        let result = match tokio::time::timeout(self.write_timeout, write).await {
            Ok(result) => result,
            Err(_) => Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "client does not read its replies",
            )),
        };
        // Sent or not, these replies are done with: a failed flush ends the session.
        self.wbuf.clear();
        result
    }

    /// Flushes if many replies are pending, so a client that pipelines heavily without
    /// reading cannot make the reply buffer grow.
    pub async fn flush_if_large(&mut self) -> io::Result<()> {
        if self.wbuf.len() >= WRITE_HIGH_WATER {
            self.flush().await
        } else {
            Ok(())
        }
    }

    /// Flushes and closes the write side (best effort).
    pub async fn close(&mut self) {
        if self.flush().await.is_ok() {
            let _ = tokio::time::timeout(self.write_timeout, self.stream.shutdown()).await;
        }
    }

    /// Reads one line ending in LF into `line` (without the CR LF or LF). The whole line must
    /// arrive before `deadline`, however it trickles in. Lines longer than `max` bytes
    /// (line ending included) are consumed and reported as [`Line::TooLong`]. When `shutdown`
    /// is given and turns true while waiting for input, returns [`ReadError::Shutdown`].
    pub async fn read_line(
        &mut self,
        line: &mut Vec<u8>,
        max: usize,
        deadline: Instant,
        mut shutdown: Option<&mut watch::Receiver<bool>>,
    ) -> Result<Line, ReadError> {
        line.clear();
        let mut too_long = false;
        loop {
            let buffered = &self.rbuf[self.start..self.end];
            let (take, complete) = match buffered.iter().position(|&b| b == b'\n') {
                Some(pos) => (pos + 1, true),
                None => (buffered.len(), false),
            };
            if !too_long {
                if line.len() + take > max {
                    too_long = true;
                    line.clear();
                } else {
                    line.extend_from_slice(&buffered[..take]);
                }
            }
            self.start += take;
            if complete {
                if too_long {
                    return Ok(Line::TooLong);
                }
                line.pop();
                if line.last() == Some(&b'\r') {
                    line.pop();
                }
                return Ok(Line::Complete);
            }
            self.read_more(deadline, shutdown.as_deref_mut()).await?;
        }
    }

    /// Buffered input, reading more first when there is none.
    pub async fn fill(&mut self, deadline: Instant) -> Result<&[u8], ReadError> {
        if self.start == self.end {
            self.read_more(deadline, None).await?;
        }
        Ok(&self.rbuf[self.start..self.end])
    }

    /// Marks `n` bytes returned by [`Conn::fill`] as used.
    pub fn consume(&mut self, n: usize) {
        self.start = (self.start + n).min(self.end);
    }

    /// Flushes pending replies (the client may be waiting for them before it sends more),
    /// then reads into the emptied buffer.
    async fn read_more(
        &mut self,
        deadline: Instant,
        shutdown: Option<&mut watch::Receiver<bool>>,
    ) -> Result<(), ReadError> {
        self.flush().await.map_err(ReadError::Io)?;
        self.start = 0;
        self.end = 0;
        let read = tokio::time::timeout_at(deadline, self.stream.read(&mut self.rbuf));
        let n = match shutdown {
            Some(shutdown) => tokio::select! {
                n = read => n,
                _ = shutdown_signal(shutdown) => return Err(ReadError::Shutdown),
            },
            None => read.await,
        };
        match n {
            Err(_) => Err(ReadError::Timeout),
            Ok(Ok(0)) => Err(ReadError::Closed),
            Ok(Ok(n)) => {
                self.end = n;
                Ok(())
            }
            Ok(Err(e)) => Err(ReadError::Io(e)),
        }
    }
}
