//! A RabbitMQ broker of a test's own: a node with its own name, ports and
//! data dir, so that a test can `kill -9` it and start it again (a broker
//! outage) without touching the machine's broker. Durable queues and
//! persistent messages survive the restart, as on a real outage.
//!
//! Needs rabbitmq-server (`/usr/lib/rabbitmq/bin/rabbitmq-server`, run as
//! the current user) and the machine's epmd, which the node starts if
//! missing.

use std::fs::File;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::{Context, Result};
use lapin::options::{ExchangeDeleteOptions, QueueDeleteOptions};
use lapin::{Connection, ConnectionProperties};

use crate::keystone::free_port;
use crate::wait_for;

/// The broker's start script, without the Debian wrapper that switches to
/// the `rabbitmq` user.
const RABBITMQ_SERVER: &str = "/usr/lib/rabbitmq/bin/rabbitmq-server";

/// How long the node may take to accept connections.
const READY_TIMEOUT: Duration = Duration::from_secs(60);

/// A running broker of one test, killed on drop.
pub struct Broker {
    port: u16,
    dist_port: u16,
    node: String,
    child: Option<Child>,
    /// Last: the data outlives the process.
    dir: tempfile::TempDir,
}

impl Broker {
    /// Starts a fresh node on free loopback ports (guest/guest).
    pub fn start() -> Result<Self> {
        let dir = tempfile::Builder::new()
            .prefix("designate-amqp-")
            .tempdir()?;
        std::fs::write(dir.path().join("enabled_plugins"), "[].\n")?;
        std::fs::write(dir.path().join("rabbitmq.conf"), "")?;
        let port = free_port();
        let mut broker = Self {
            port,
            dist_port: free_port(),
            node: format!("designate-e2e-{port}@localhost"),
            child: None,
            dir,
        };
        broker.start_again()?;
        Ok(broker)
    }

    /// Its AMQP URL, for lapin.
    pub fn amqp_url(&self) -> String {
        format!("amqp://guest:guest@127.0.0.1:{}/%2f", self.port)
    }

    /// Its host and port, for a `transport_url`.
    pub fn host_port(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Kills the node, as a crash would.
    pub fn kill(&mut self) {
        // Its own process group: RabbitMQ's Erlang processes go with it.
        crate::crash(&mut self.child);
    }

    /// Starts the node on its data dir and ports (after [`Self::kill`]: it
    /// recovers its durable queues) and waits until it accepts connections.
    pub fn start_again(&mut self) -> Result<()> {
        self.kill();
        let base = self.dir.path();
        let log = File::options()
            .create(true)
            .append(true)
            .open(self.log_path())?;
        let child = Command::new(RABBITMQ_SERVER)
            .env("RABBITMQ_NODENAME", &self.node)
            .env("RABBITMQ_NODE_IP_ADDRESS", "127.0.0.1")
            .env("RABBITMQ_NODE_PORT", self.port.to_string())
            .env("RABBITMQ_DIST_PORT", self.dist_port.to_string())
            .env("RABBITMQ_MNESIA_BASE", base.join("mnesia"))
            .env("RABBITMQ_LOG_BASE", base.join("log"))
            .env("RABBITMQ_LOGS", "-")
            .env(
                "RABBITMQ_ENABLED_PLUGINS_FILE",
                base.join("enabled_plugins"),
            )
            .env("RABBITMQ_CONFIG_FILE", base.join("rabbitmq"))
            .env("RABBITMQ_PID_FILE", base.join("pid"))
            // A node killed mid-test dumps erl_crash.dump and MnesiaCore
            // files into its working directory: keep them in the node's own.
            .env("ERL_CRASH_DUMP", base.join("erl_crash.dump"))
            .current_dir(base)
            .process_group(0)
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .context("starting rabbitmq-server")?;
        self.child = Some(child);
        let addr = std::net::SocketAddr::from(([127, 0, 0, 1], self.port));
        wait_for(READY_TIMEOUT, &format!("RabbitMQ on {addr}"), || {
            std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(200))
                .map(drop)
                .map_err(|e| format!("{e}; log: {}", crate::tail(&self.log_path(), 5)))
        });
        Ok(())
    }

    fn log_path(&self) -> PathBuf {
        self.dir.path().join("rabbitmq.log")
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Deletes a test's own queue and exchange from a broker others share
/// (best effort: the test is ending).
pub fn remove(amqp_url: &str, queue: &str, exchange: &str) {
    let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    else {
        return;
    };
    let _ = runtime.block_on(async {
        let connection = Connection::connect(amqp_url, ConnectionProperties::default()).await?;
        let channel = connection.create_channel().await?;
        let _ = channel
            .queue_delete(queue.into(), QueueDeleteOptions::default())
            .await;
        channel
            .exchange_delete(exchange.into(), ExchangeDeleteOptions::default())
            .await
    });
}
