//! The Sink role: consumes nova's and neutron's notifications from the bus
//! and writes their records (`designate_sink`), acknowledging each
//! notification once its records are written.

use anyhow::{Context, Result, bail};
use designate_bus::Consumer;
use designate_sink::{HandlerConfig, Sink};
use tracing::info;

use crate::roles::Shared;

/// The topic nova and neutron notify on (their `notification_topics`).
pub(crate) const SINK_TOPIC: &str = "notifications";

/// The Sink's options.
#[derive(clap::Args, Clone, Default)]
pub(crate) struct SinkArgs {
    /// A Sink handler and the id of the zone its records go to:
    /// `nova_fixed:<zone id>` (A/AAAA per instance fixed IP) or
    /// `neutron_floatingip:<zone id>` (A per associated floating IP);
    /// repeatable. Designate's `[service:sink]
    /// enabled_notification_handlers` and `[handler:*] zone_id`.
    /// The zone may also be given by its DNS name (`example.org.`).
    #[arg(long = "sink-handler", value_parser = HandlerConfig::parse)]
    pub handlers: Vec<HandlerConfig>,
    /// A handler's name format for IPv4 records, as `<handler>=<format>`
    /// (`nova_fixed=%(display_name)s.%(zone)s`); repeatable, each one
    /// making a record. Designate's `[handler:*] formatv4`; default
    /// `%(hostname)s.%(zone)s`.
    #[arg(long = "sink-formatv4", value_parser = parse_format)]
    pub formatv4: Vec<(String, String)>,
    /// The same for IPv6 records (`formatv6`).
    #[arg(long = "sink-formatv6", value_parser = parse_format)]
    pub formatv6: Vec<(String, String)>,
    /// The durable queue the Sink consumes, bound on its handlers'
    /// exchanges (`nova`, `neutron`) with `notifications.info`.
    #[arg(long, default_value = "designate-sink")]
    pub sink_queue: String,
    /// Keep the floating IPs of this region (neutron's `floatingip.*`
    /// notifications) as FloatingIp objects, whose PTR records projects
    /// set through `/v2/reverse/floatingips` (Designate asks Neutron's API
    /// instead; `[network_api:neutron]`'s region).
    #[arg(long)]
    pub sink_floatingip_region: Option<String>,
}

impl SinkArgs {
    pub fn configured(&self) -> bool {
        !self.handlers.is_empty() || self.sink_floatingip_region.is_some()
    }

    /// The handlers with the formats given for them.
    fn handlers(&self) -> Result<Vec<HandlerConfig>> {
        let mut handlers = self.handlers.clone();
        for (formats, v6) in [(&self.formatv4, false), (&self.formatv6, true)] {
            for (name, _) in formats {
                if !handlers.iter().any(|h| h.kind.plugin_name() == name) {
                    bail!("a format for {name:?}, which no --sink-handler names");
                }
            }
            for handler in &mut handlers {
                let given = formats
                    .iter()
                    .filter(|(name, _)| name == handler.kind.plugin_name())
                    .map(|(_, format)| format.clone())
                    .collect();
                handler.set_formats(given, v6);
            }
        }
        Ok(handlers)
    }
}

fn parse_format(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((name, format)) if !name.is_empty() && !format.is_empty() => {
            Ok((name.to_string(), format.to_string()))
        }
        _ => Err(format!("{text:?}: expected <handler>=<format>")),
    }
}

/// Starts the Sink in the background (it runs until the process ends).
pub(crate) fn start(
    shared: &Shared,
    args: &SinkArgs,
    bus: &crate::notifier::BusArgs,
) -> Result<()> {
    let url = bus
        .transport()?
        .context("the Sink needs the bus: --transport-url (or DESIGNATE_TRANSPORT_URL)")?;
    if !args.configured() {
        bail!(
            "the Sink has nothing to do: --sink-handler nova_fixed:<zone id> or --sink-floatingip-region"
        );
    }
    let sink = Sink::new(
        shared.client.clone(),
        args.handlers()?,
        args.sink_floatingip_region.clone(),
    );
    let consumer = Consumer::new(url, &args.sink_queue, &sink.exchanges(), SINK_TOPIC);
    let beating = shared.heartbeats.start("sink");
    info!(queue = %args.sink_queue, exchanges = ?sink.exchanges(), "sink started");
    tokio::spawn(async move {
        let _beating = beating;
        consumer.run(|notification| sink.handle(notification)).await;
    });
    Ok(())
}
