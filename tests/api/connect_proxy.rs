//! An HTTP proxy on loopback, as RFC 9110 describes one: `CONNECT host:port` opens a tunnel
//! (§9.3.6: a 2xx, then bytes both ways), and a request with an absolute-form target
//! (`GET http://host:port/path`, §7.1) is forwarded to that host. Like a real proxy it resolves
//! names itself, from its own table (the stand-in hosts), and it logs what it was asked.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

pub struct ConnectProxy {
    pub url: String,
    log: Arc<Mutex<Vec<String>>>,
}

impl ConnectProxy {
    pub async fn start(hosts: HashMap<String, Vec<IpAddr>>) -> ConnectProxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let log = Arc::new(Mutex::new(Vec::new()));
        let (hosts, shared) = (Arc::new(hosts), log.clone());
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                tokio::spawn(handle(client, hosts.clone(), shared.clone()));
            }
        });
        ConnectProxy { url, log }
    }

    /// `CONNECT host:port` and `GET http://…` lines, in order.
    pub fn requests(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
    }
}

async fn handle(mut client: TcpStream, hosts: Arc<HashMap<String, Vec<IpAddr>>>, log: Arc<Mutex<Vec<String>>>) {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if head.len() > 16 * 1024 || client.read(&mut byte).await.unwrap_or(0) == 0 {
            return;
        }
        head.push(byte[0]);
    }
    let text = String::from_utf8_lossy(&head).into_owned();
    let mut words = text.lines().next().unwrap_or_default().split(' ');
    let (method, target) = (words.next().unwrap_or_default(), words.next().unwrap_or_default());
    let authority = if method == "CONNECT" {
        target.to_owned()
    } else {
        match url::Url::parse(target) {
            Ok(u) => format!(
                "{}:{}",
                u.host_str().unwrap_or_default(),
                u.port_or_known_default().unwrap_or(80)
            ),
            Err(_) => return,
        }
    };
    log.lock().unwrap().push(format!("{method} {target}"));
    let Some((host, port)) = authority.rsplit_once(':') else {
        return;
    };
    let ip = hosts
        .get(host)
        .and_then(|ips| ips.first().copied())
        .or_else(|| host.trim_matches(['[', ']']).parse().ok());
    let upstream = match (ip, port.parse::<u16>()) {
        (Some(ip), Ok(port)) => TcpStream::connect(SocketAddr::new(ip, port)).await.ok(),
        _ => None,
    };
    let Some(mut upstream) = upstream else {
        let _ = client
            .write_all(b"HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\n\r\n")
            .await;
        return;
    };
    if method == "CONNECT" {
        if client
            .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
            .await
            .is_err()
        {
            return;
        }
    } else if upstream.write_all(&head).await.is_err() {
        return;
    }
    let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
}
