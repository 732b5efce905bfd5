//! STARTTLS (RFC 3207). The handshake itself happens in [`super::session::handle_session`],
//! after the session loop has thrown away any input pipelined behind the command.

use super::reply::Reply;
use super::session::Session;

impl Session {
    /// `Ok(220)` when the session should switch to TLS now; otherwise the refusal.
    pub(crate) fn handle_starttls(&mut self, args: &str) -> Result<Reply, Reply> {
        if self.tls.is_some() {
            return Err(Reply::new(554, "5.5.1", "Error: TLS already active"));
        }
        if self.ctx.tls.is_none() {
            return Err(Reply::new(502, "5.5.1", "Error: command not implemented"));
        }
        if !args.is_empty() {
            return Err(Reply::syntax("STARTTLS"));
        }
        if self.tx.is_some() {
            return Err(Reply::new(
                503,
                "5.5.1",
                "Error: MAIL transaction in progress",
            ));
        }
        Ok(Reply::new(220, "2.0.0", "Ready to start TLS"))
    }
}
