//! Holds the SMTP port and answers every connection with a temporary `421`, for deployments
//! that run the API without the relay engine.

use std::net::SocketAddr;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;
use tokio::sync::watch;

/// A bound SMTP listener that refuses service temporarily.
pub struct Placeholder {
    listener: TcpListener,
    hostname: String,
}

impl Placeholder {
    /// Binds `addr` (port 0 picks a free port).
    pub async fn bind(addr: SocketAddr, hostname: String) -> std::io::Result<Self> {
        Ok(Placeholder {
            listener: TcpListener::bind(addr).await?,
            hostname,
        })
    }

    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Answers connections until `shutdown` turns true.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        let banner = format!(
            "421 4.3.2 {} mxspool relay not available yet, try again later\r\n",
            self.hostname
        );
        loop {
            tokio::select! {
                accepted = self.listener.accept() => {
                    if let Ok((mut stream, peer)) = accepted {
                        tracing::debug!(%peer, "SMTP connection refused with 421");
                        let banner = banner.clone();
                        tokio::spawn(async move {
                            let _ = stream.write_all(banner.as_bytes()).await;
                            let _ = stream.shutdown().await;
                        });
                    }
                }
                _ = shutdown.changed() => break,
            }
        }
    }
}
