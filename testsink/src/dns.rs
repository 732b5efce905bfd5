//! An authoritative-only DNS server on loopback for tests: it answers MX, A, AAAA and CNAME
//! queries from a [`Zone`] the test describes, `NXDOMAIN` for names it does not know, an empty
//! answer (NODATA) for known names without records of the asked type, and `SERVFAIL` for names
//! the zone marks broken. Point a resolver's
//! nameservers at [`DnsServer::addr`] (UDP, and TCP on the same port).

use hickory_proto::op::{Header, MessageType, OpCode, ResponseCode};
use hickory_proto::rr::rdata::{A, AAAA, CNAME, MX, PTR};
use hickory_proto::rr::{Name, RData, Record, RecordType};
use hickory_server::authority::MessageResponseBuilder;
use hickory_server::server::{Request, RequestHandler, ResponseHandler, ResponseInfo};
use hickory_server::ServerFuture;
use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::{Arc, RwLock};
use std::time::Duration;
use tokio::net::{TcpListener, UdpSocket};
use tokio::sync::oneshot;

/// TTL of the records served, unless [`Zone::ttl`] sets another for a name.
const TTL: u32 = 60;

/// The records a [`DnsServer`] serves, by owner name (case-insensitive, trailing dot optional).
#[derive(Debug, Clone, Default)]
pub struct Zone {
    names: HashMap<String, Vec<Entry>>,
    /// TTL of every record of a name, when not [`TTL`].
    ttls: HashMap<String, u32>,
}

#[derive(Debug, Clone)]
enum Entry {
    Mx(u16, String),
    A(Ipv4Addr),
    Aaaa(Ipv6Addr),
    Cname(String),
    Ptr(String),
    ServFail,
}

fn key(name: &str) -> String {
    name.trim_end_matches('.').to_ascii_lowercase()
}

/// The owner name of an address's PTR record, as [`key`] spells names.
fn reverse_name(address: IpAddr) -> String {
    match address {
        IpAddr::V4(v4) => {
            let [a, b, c, d] = v4.octets();
            format!("{d}.{c}.{b}.{a}.in-addr.arpa")
        }
        IpAddr::V6(v6) => {
            let mut labels: Vec<String> = v6
                .octets()
                .iter()
                .flat_map(|byte| [byte >> 4, byte & 0x0f])
                .map(|nibble| format!("{nibble:x}"))
                .collect();
            labels.reverse();
            format!("{}.ip6.arpa", labels.join("."))
        }
    }
}

impl Zone {
    /// An empty zone: every name is NXDOMAIN.
    pub fn new() -> Zone {
        Zone::default()
    }

    /// Adds `name MX preference exchange`; an exchange of `"."` makes a null MX (RFC 7505).
    pub fn mx(mut self, name: &str, preference: u16, exchange: &str) -> Zone {
        self.names
            .entry(key(name))
            .or_default()
            .push(Entry::Mx(preference, exchange.to_owned()));
        self
    }

    /// Adds `name A address`.
    pub fn a(mut self, name: &str, address: Ipv4Addr) -> Zone {
        self.names
            .entry(key(name))
            .or_default()
            .push(Entry::A(address));
        self
    }

    /// Adds `name AAAA address`.
    pub fn aaaa(mut self, name: &str, address: Ipv6Addr) -> Zone {
        self.names
            .entry(key(name))
            .or_default()
            .push(Entry::Aaaa(address));
        self
    }

    /// Adds `name CNAME target`: every query for `name` is answered with the alias, followed
    /// by `target`'s records of the asked type when the zone has them (as an authoritative
    /// server does for a target in its own zone).
    pub fn cname(mut self, name: &str, target: &str) -> Zone {
        self.names
            .entry(key(name))
            .or_default()
            .push(Entry::Cname(target.to_owned()));
        self
    }

    /// Adds `address PTR name`, owned by the address's reverse name (`…in-addr.arpa` or
    /// `…ip6.arpa`); several calls for one address give it several names.
    pub fn ptr(mut self, address: IpAddr, name: &str) -> Zone {
        self.names
            .entry(reverse_name(address))
            .or_default()
            .push(Entry::Ptr(name.to_owned()));
        self
    }

    /// Serves every record of `name` with this TTL instead of the default 60 s.
    pub fn ttl(mut self, name: &str, ttl: u32) -> Zone {
        self.ttls.insert(key(name), ttl);
        self
    }

    /// Answers every query for `name` with `SERVFAIL`, like a broken zone (e.g. expired DNSSEC
    /// signatures or a lame delegation).
    pub fn servfail(mut self, name: &str) -> Zone {
        self.names
            .entry(key(name))
            .or_default()
            .push(Entry::ServFail);
        self
    }

    /// What to answer for `qname`: `Err` with the response code when the name does not exist or
    /// is broken, otherwise its records of `kind` (maybe none).
    fn answer(&self, qname: &Name, kind: RecordType) -> Result<Vec<Record>, ResponseCode> {
        let mut records = Vec::new();
        self.collect(qname, kind, &mut records, 0)?;
        Ok(records)
    }

    fn collect(
        &self,
        qname: &Name,
        kind: RecordType,
        records: &mut Vec<Record>,
        depth: u8,
    ) -> Result<(), ResponseCode> {
        let owner = key(&qname.to_ascii());
        let entries = self.names.get(&owner).ok_or(ResponseCode::NXDomain)?;
        let ttl = self.ttls.get(&owner).copied().unwrap_or(TTL);
        for entry in entries {
            let rdata = match (entry, kind) {
                (Entry::ServFail, _) => return Err(ResponseCode::ServFail),
                (Entry::Cname(target), _) => {
                    let Ok(target) = Name::from_ascii(format!("{}.", key(target))) else {
                        continue;
                    };
                    records.push(Record::from_rdata(
                        qname.clone(),
                        ttl,
                        RData::CNAME(CNAME(target.clone())),
                    ));
                    // Follow aliases inside the zone; a target outside it (or a loop) ends
                    // the answer at the alias.
                    if kind != RecordType::CNAME && depth < 8 {
                        let _ = self.collect(&target, kind, records, depth + 1);
                    }
                    continue;
                }
                (Entry::Mx(preference, exchange), RecordType::MX) => {
                    let exchange = if exchange == "." {
                        Name::root()
                    } else {
                        match Name::from_ascii(format!("{}.", key(exchange))) {
                            Ok(name) => name,
                            Err(_) => continue,
                        }
                    };
                    RData::MX(MX::new(*preference, exchange))
                }
                (Entry::Ptr(target), RecordType::PTR) => {
                    match Name::from_ascii(format!("{}.", key(target))) {
                        Ok(name) => RData::PTR(PTR(name)),
                        Err(_) => continue,
                    }
                }
                (Entry::A(ip), RecordType::A) => RData::A(A(*ip)),
                (Entry::Aaaa(ip), RecordType::AAAA) => RData::AAAA(AAAA(*ip)),
                _ => continue,
            };
            records.push(Record::from_rdata(qname.clone(), ttl, rdata));
        }
        Ok(())
    }
}

struct Handler {
    zone: Arc<RwLock<Zone>>,
}

#[async_trait::async_trait]
impl RequestHandler for Handler {
    async fn handle_request<R: ResponseHandler>(
        &self,
        request: &Request,
        mut response_handle: R,
    ) -> ResponseInfo {
        let mut header = Header::response_from_request(request.header());
        header.set_authoritative(true);
        let builder = MessageResponseBuilder::from_message_request(request);
        if request.message_type() != MessageType::Query || request.op_code() != OpCode::Query {
            header.set_response_code(ResponseCode::NotImp);
            return send(&mut response_handle, builder.build_no_records(header)).await;
        }
        let Ok(info) = request.request_info() else {
            header.set_response_code(ResponseCode::FormErr);
            return send(&mut response_handle, builder.build_no_records(header)).await;
        };
        let qname: Name = info.query.name().into();
        let answer = match self.zone.read() {
            Ok(zone) => zone.answer(&qname, info.query.query_type()),
            Err(poisoned) => poisoned
                .into_inner()
                .answer(&qname, info.query.query_type()),
        };
        let answers = match answer {
            Ok(records) => records,
            Err(code) => {
                header.set_response_code(code);
                Vec::new()
            }
        };
        let response = builder.build(header, answers.iter(), [], [], []);
        send(&mut response_handle, response).await
    }
}

async fn send<'a, R: ResponseHandler>(
    handle: &mut R,
    response: hickory_server::authority::MessageResponse<
        '_,
        'a,
        impl Iterator<Item = &'a Record> + Send + 'a,
        impl Iterator<Item = &'a Record> + Send + 'a,
        impl Iterator<Item = &'a Record> + Send + 'a,
        impl Iterator<Item = &'a Record> + Send + 'a,
    >,
) -> ResponseInfo {
    match handle.send_response(response).await {
        Ok(info) => info,
        Err(e) => {
            tracing::debug!(error = %e, "test DNS server could not answer");
            let mut header = Header::new();
            header.set_response_code(ResponseCode::ServFail);
            header.into()
        }
    }
}

/// A running test DNS server; dropping it stops it.
pub struct DnsServer {
    addr: SocketAddr,
    zone: Arc<RwLock<Zone>>,
    stop: Option<oneshot::Sender<()>>,
}

impl DnsServer {
    /// Serves `zone` on a free port of 127.0.0.1 (UDP; TCP too on the same port when free).
    pub async fn start(zone: Zone) -> std::io::Result<DnsServer> {
        let udp = UdpSocket::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await?;
        let addr = udp.local_addr()?;
        let tcp = TcpListener::bind(addr).await.ok();
        let zone = Arc::new(RwLock::new(zone));
        let mut server = ServerFuture::new(Handler { zone: zone.clone() });
        server.register_socket(udp);
        if let Some(tcp) = tcp {
            server.register_listener(tcp, Duration::from_secs(5));
        }
        let (stop, stopped) = oneshot::channel::<()>();
        tokio::spawn(async move {
            tokio::select! {
                result = server.block_until_done() => {
                    if let Err(e) = result {
                        tracing::debug!(error = %e, "test DNS server stopped");
                    }
                }
                _ = stopped => {
                    let _ = server.shutdown_gracefully().await;
                }
            }
        });
        Ok(DnsServer {
            addr,
            zone,
            stop: Some(stop),
        })
    }

    /// The address to use as a nameserver.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Replaces the zone served from now on.
    pub fn set_zone(&self, zone: Zone) {
        match self.zone.write() {
            Ok(mut current) => *current = zone,
            Err(poisoned) => *poisoned.into_inner() = zone,
        }
    }
}

impl Drop for DnsServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use hickory_proto::op::{Message, Query};
    use hickory_proto::serialize::binary::{BinDecodable, BinEncodable};

    async fn ask(server: &DnsServer, name: &str, kind: RecordType) -> Message {
        let mut message = Message::new();
        message
            .set_id(7)
            .set_message_type(MessageType::Query)
            .set_op_code(OpCode::Query)
            .set_recursion_desired(true)
            .add_query(Query::query(Name::from_ascii(name).unwrap(), kind));
        let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        socket
            .send_to(&message.to_bytes().unwrap(), server.addr())
            .await
            .unwrap();
        let mut buf = vec![0u8; 4096];
        let (n, _) = tokio::time::timeout(Duration::from_secs(2), socket.recv_from(&mut buf))
            .await
            .unwrap()
            .unwrap();
        Message::from_bytes(&buf[..n]).unwrap()
    }

    fn zone() -> Zone {
        Zone::new()
            .mx("sender.test", 10, "mx.sender.test")
            .a("mx.sender.test", Ipv4Addr::LOCALHOST)
            .mx("nullmx.test", 0, ".")
    }

    #[tokio::test]
    async fn mx_and_a_records_are_served() {
        let server = DnsServer::start(zone()).await.unwrap();
        let mx = ask(&server, "Sender.Test.", RecordType::MX).await;
        assert_eq!(mx.response_code(), ResponseCode::NoError);
        let Some(RData::MX(record)) = mx.answers().first().map(|r| r.data()) else {
            panic!("no MX answer: {mx:?}");
        };
        assert_eq!(record.preference(), 10);
        assert_eq!(record.exchange().to_ascii(), "mx.sender.test.");
        let a = ask(&server, "mx.sender.test.", RecordType::A).await;
        assert_eq!(
            a.answers().first().map(|r| r.data().clone()),
            Some(RData::A(A(Ipv4Addr::LOCALHOST)))
        );
    }

    #[tokio::test]
    async fn unknown_names_are_nxdomain_and_missing_types_are_empty() {
        let server = DnsServer::start(zone()).await.unwrap();
        let nx = ask(&server, "nowhere.test.", RecordType::MX).await;
        assert_eq!(nx.response_code(), ResponseCode::NXDomain);
        let nodata = ask(&server, "sender.test.", RecordType::AAAA).await;
        assert_eq!(nodata.response_code(), ResponseCode::NoError);
        assert!(nodata.answers().is_empty());
    }

    #[tokio::test]
    async fn aliases_ttls_and_broken_names_are_served_as_described() {
        let zone = zone()
            .cname("alias.sender.test", "mx.sender.test")
            .ttl("sender.test", 1800)
            .servfail("broken.test");
        let server = DnsServer::start(zone).await.unwrap();
        let a = ask(&server, "alias.sender.test.", RecordType::A).await;
        let data: Vec<RData> = a.answers().iter().map(|r| r.data().clone()).collect();
        assert_eq!(
            data,
            vec![
                RData::CNAME(CNAME(Name::from_ascii("mx.sender.test.").unwrap())),
                RData::A(A(Ipv4Addr::LOCALHOST)),
            ]
        );
        let mx = ask(&server, "sender.test.", RecordType::MX).await;
        assert_eq!(mx.answers().first().map(|r| r.ttl()), Some(1800));
        let broken = ask(&server, "broken.test.", RecordType::MX).await;
        assert_eq!(broken.response_code(), ResponseCode::ServFail);
    }

    #[tokio::test]
    async fn a_null_mx_points_at_the_root() {
        let server = DnsServer::start(zone()).await.unwrap();
        let mx = ask(&server, "nullmx.test.", RecordType::MX).await;
        let Some(RData::MX(record)) = mx.answers().first().map(|r| r.data()) else {
            panic!("no MX answer: {mx:?}");
        };
        assert!(record.exchange().is_root());
    }

    #[tokio::test]
    async fn ptr_records_answer_reverse_names_of_both_families() {
        let zone = Zone::new()
            .ptr("127.0.0.2".parse().unwrap(), "mx2.relay.test")
            .ptr("2001:db8::25".parse().unwrap(), "mx6.relay.test");
        let server = DnsServer::start(zone).await.unwrap();
        let v4 = ask(&server, "2.0.0.127.in-addr.arpa.", RecordType::PTR).await;
        let Some(RData::PTR(name)) = v4.answers().first().map(|r| r.data()) else {
            panic!("no PTR answer: {v4:?}");
        };
        assert_eq!(name.0.to_ascii(), "mx2.relay.test.");
        let v6_name = "5.2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa.";
        let v6 = ask(&server, v6_name, RecordType::PTR).await;
        let Some(RData::PTR(name)) = v6.answers().first().map(|r| r.data()) else {
            panic!("no PTR answer: {v6:?}");
        };
        assert_eq!(name.0.to_ascii(), "mx6.relay.test.");
    }
}
