//! STARTTLS: with lettre, against command injection, and the acceptor's certificate sources.

use crate::helpers::{message, TestEnv, TestSession, HOSTNAME};
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use mxspool_relay::config::TlsFiles;
use mxspool_relay::RelayConfig;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use std::sync::Arc;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

#[tokio::test]
async fn starttls_with_lettre_stores_an_esmtps_received_header() {
    let env = TestEnv::new();
    env.domain("relay.example");
    let server = env.serve().await;
    let tls = TlsParameters::builder(HOSTNAME.to_owned())
        .dangerous_accept_invalid_certs(true)
        .build_rustls()
        .unwrap();
    let transport = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous("127.0.0.1")
        .port(server.addr.port())
        .hello_name(ClientId::Domain("lettre.example".into()))
        .tls(Tls::Required(tls))
        .build();
    let email = Message::builder()
        .from("sender@outside.example".parse().unwrap())
        .to("user@relay.example".parse().unwrap())
        .subject("encrypted")
        .body(String::from("Hello over TLS.\r\n"))
        .unwrap();
    transport.send(email).await.unwrap();

    let stored = env.only_message();
    assert!(stored.tls);
    let body = stored.body_text();
    assert!(body.contains("with ESMTPS"), "{body}");
    assert!(body.contains("(using TLSv1."), "{body}");
}

/// Accepts any certificate: the intake's is self-signed.
#[derive(Debug)]
struct AcceptAnyCertificate;

impl ServerCertVerifier for AcceptAnyCertificate {
    fn verify_server_cert(
        &self,
        _: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        _: &[u8],
        _: &CertificateDer<'_>,
        _: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        Ok(HandshakeSignatureValid::assertion())
    }

    fn verify_tls13_signature(
        &self,
        _: &[u8],
        _: &CertificateDer<'_>,
        _: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        Ok(HandshakeSignatureValid::assertion())
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        rustls::crypto::ring::default_provider()
            .signature_verification_algorithms
            .supported_schemes()
    }
}

async fn upgrade(
    session: TestSession<TcpStream>,
) -> TestSession<tokio_rustls::client::TlsStream<TcpStream>> {
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .dangerous()
    .with_custom_certificate_verifier(Arc::new(AcceptAnyCertificate))
    .with_no_client_auth();
    let stream = TlsConnector::from(Arc::new(config))
        .connect(
            ServerName::try_from(HOSTNAME.to_owned()).unwrap(),
            session.into_stream(),
        )
        .await
        .expect("TLS handshake");
    TestSession::new(stream, None)
}

#[tokio::test]
async fn commands_pipelined_after_starttls_are_discarded_not_run_inside_tls() {
    let env = TestEnv::new();
    env.domain("relay.example");
    let server = env.serve().await;
    let mut s = server.session().await;
    s.ehlo().await;
    // The injection: plaintext commands behind STARTTLS in the same packet.
    s.send("STARTTLS\r\nRSET\r\nMAIL FROM:<injected@outside.example>\r\n")
        .await;
    s.expect("220 2.0.0 Ready to start TLS").await;
    let mut tls = upgrade(s).await;
    // The first reply inside TLS answers our EHLO, not the injected RSET.
    let ehlo = tls.cmd("EHLO client.example", "250-mx.test.example").await;
    assert!(!ehlo.has_line("STARTTLS"), "STARTTLS offered twice");
    // And the injected MAIL FROM did not open a transaction.
    tls.cmd("RCPT TO:<user@relay.example>", "503 5.5.1").await;
    tls.cmd("STARTTLS", "554 5.5.1").await;
    tls.envelope("sender@outside.example", &["user@relay.example"])
        .await;
    tls.data(&message("tls"), "250 2.0.0").await;
    let stored = env.only_message();
    assert_eq!(stored.sender, "sender@outside.example");
    assert!(stored.tls);
}

#[tokio::test]
async fn tls_forgets_the_earlier_ehlo() {
    let env = TestEnv::new();
    env.domain("relay.example");
    let server = env.serve().await;
    let mut s = server.session().await;
    s.ehlo().await;
    s.cmd("STARTTLS", "220").await;
    let mut tls = upgrade(s).await;
    tls.cmd("MAIL FROM:<a@outside.example>", "503 5.5.1").await;
}

#[tokio::test]
async fn starttls_inside_a_transaction_is_refused() {
    let env = TestEnv::new();
    env.domain("relay.example");
    let mut s = env.session().await;
    s.envelope("a@outside.example", &["user@relay.example"])
        .await;
    s.cmd("STARTTLS", "503 5.5.1").await;
}

fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "mxspool-intake-{name}-{}-{}",
        std::process::id(),
        rand::random::<u64>()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn acceptor_loads_a_pem_certificate_and_key() {
    let generated = rcgen::generate_simple_self_signed(vec![HOSTNAME.to_owned()]).unwrap();
    let dir = temp_dir("pem");
    let files = TlsFiles {
        cert: dir.join("cert.pem"),
        key: dir.join("key.pem"),
    };
    std::fs::write(&files.cert, generated.cert.pem()).unwrap();
    std::fs::write(&files.key, generated.signing_key.serialize_pem()).unwrap();
    let mut config = RelayConfig::new(HOSTNAME.to_owned());
    config.tls = Some(files.clone());
    assert!(mxspool_relay::tls::acceptor(&config).is_ok());

    // A key file without a key is reported as such.
    std::fs::write(&files.key, "not a key\n").unwrap();
    let err = mxspool_relay::tls::acceptor(&config).err().unwrap();
    assert!(err.to_string().contains("no PEM private key"), "{err}");
    // A missing certificate file names the file.
    std::fs::remove_file(&files.cert).unwrap();
    let err = mxspool_relay::tls::acceptor(&config).err().unwrap();
    assert!(err.to_string().contains("cert.pem"), "{err}");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn acceptor_without_a_certificate_generates_a_self_signed_one() {
    let config = RelayConfig::new(HOSTNAME.to_owned());
    assert!(config.tls.is_none());
    assert!(mxspool_relay::tls::acceptor(&config).is_ok());
}
