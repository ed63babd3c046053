//! A TCP relay in front of the API server that a test can cut: a network partition between one
//! operator replica and the cluster, while the replica's other connections (the directories)
//! stay up. After `cut`, relayed connections are dropped and new ones are accepted and left
//! hanging, as a partition looks to a client.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

pub struct Cut {
    pub address: SocketAddr,
    cut: Arc<watch::Sender<bool>>,
}

impl Cut {
    /// Relays 127.0.0.1:<free port> to `upstream` until cut.
    pub async fn start(upstream: SocketAddr) -> Cut {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind relay");
        let address = listener.local_addr().expect("relay address");
        let cut = Arc::new(watch::channel(false).0);
        let state = cut.clone();
        tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((client, _)) = listener.accept().await {
                if *state.borrow() {
                    held.push(client);
                    continue;
                }
                let mut cut = state.subscribe();
                tokio::spawn(async move {
                    let Ok(server) = TcpStream::connect(upstream).await else {
                        return;
                    };
                    let (mut client, mut server) = (client, server);
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                        _ = cut.wait_for(|c| *c) => {}
                    }
                });
            }
        });
        Cut { address, cut }
    }

    pub fn cut(&self) {
        self.cut.send_replace(true);
    }

    /// A copy of `kubeconfig` whose API server is reached through this relay.
    pub fn kubeconfig(&self, kubeconfig: &Path) -> PathBuf {
        let text = std::fs::read_to_string(kubeconfig).expect("kubeconfig");
        let upstream = api_server(kubeconfig);
        let relayed = text.replace(
            &format!("server: https://{upstream}"),
            &format!("server: https://{}", self.address),
        );
        let path = kubeconfig.with_file_name(format!("kubeconfig-relay-{}", self.address.port()));
        std::fs::write(&path, relayed).expect("write kubeconfig");
        path
    }
}

/// The API server's address in `kubeconfig` (`server: https://127.0.0.1:PORT`).
pub fn api_server(kubeconfig: &Path) -> SocketAddr {
    let text = std::fs::read_to_string(kubeconfig).expect("kubeconfig");
    text.lines()
        .find_map(|l| l.trim().strip_prefix("server: https://"))
        .and_then(|a| a.parse().ok())
        .expect("a server: https://host:port line")
}
