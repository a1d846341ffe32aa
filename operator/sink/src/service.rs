//! The Sink as a service: each notification goes to the handlers that
//! handle its event type, whose plans are written as Recordsets in their
//! configured zones (Designate's `[handler:*] zone_id`: the Zone's id).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use designate_bus::{Handled, Notification};
use designate_crd::Zone;
use kube::api::{Api, ListParams};
use kube::{Client, ResourceExt};
use tracing::{Instrument, debug, info_span, warn};

use crate::floating_ips::{self, Learned};
use crate::records::{Writer, ZoneTarget};
use crate::{Error, Handler, Kind};

/// How long a handler's zone, once found, is used without looking again.
const ZONE_CACHE_TIME: Duration = Duration::from_secs(30);

/// One configured handler: Designate's `[handler:<name>]` section.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HandlerConfig {
    pub kind: Kind,
    /// The id of the zone the records go to (or its DNS name, with its
    /// trailing dot).
    pub zone_id: String,
    pub formatv4: Vec<String>,
    pub formatv6: Vec<String>,
    /// Where its notifications come from: `nova` or `neutron`.
    pub exchange: String,
}

impl HandlerConfig {
    /// A handler of `kind` into the zone `zone_id`, with Designate's
    /// default formats and exchange.
    pub fn new(kind: Kind, zone_id: &str) -> Self {
        let defaults = Handler::new(kind, "");
        Self {
            kind,
            zone_id: zone_id.to_string(),
            formatv4: defaults.formatv4,
            formatv6: defaults.formatv6,
            exchange: kind.default_exchange().to_string(),
        }
    }

    /// Parses `nova_fixed:<zone id>` / `neutron_floatingip:<zone id>`.
    pub fn parse(text: &str) -> Result<Self, String> {
        let (name, zone_id) = text
            .split_once(':')
            .ok_or_else(|| format!("{text:?}: expected <handler>:<zone id>"))?;
        let kind = Kind::from_name(name)
            .ok_or_else(|| format!("{name:?}: unknown handler (nova_fixed, neutron_floatingip)"))?;
        if zone_id.is_empty() {
            return Err(format!("{text:?}: no zone id"));
        }
        Ok(Self::new(kind, zone_id))
    }

    /// The name formats given for IPv4 (or IPv6) records, in place of
    /// the defaults; none given keeps them.
    pub fn set_formats(&mut self, formats: Vec<String>, v6: bool) {
        if formats.is_empty() {
            return;
        }
        if v6 {
            self.formatv6 = formats;
        } else {
            self.formatv4 = formats;
        }
    }
}

/// The Sink: handlers, and where their records go.
pub struct Sink {
    client: Client,
    writer: Writer,
    handlers: Vec<HandlerConfig>,
    /// The region whose floating IPs are kept from neutron's notifications
    /// (for `/v2/reverse/floatingips`); `None`: none are.
    floating_ip_region: Option<String>,
    /// Zones found by id or name, and when, so that each notification
    /// does not list them; kept for [`ZONE_CACHE_TIME`] (a zone made again
    /// under its name is found anew).
    zones: Mutex<HashMap<String, (ZoneTarget, Instant)>>,
}

impl Sink {
    pub fn new(
        client: Client,
        handlers: Vec<HandlerConfig>,
        floating_ip_region: Option<String>,
    ) -> Self {
        Self {
            writer: Writer::new(client.clone()),
            client,
            handlers,
            floating_ip_region,
            zones: Mutex::default(),
        }
    }

    /// The exchanges its handlers (and the floating IPs) listen on, each
    /// once.
    pub fn exchanges(&self) -> Vec<String> {
        let mut exchanges: Vec<String> = Vec::new();
        let floating_ips = self.floating_ip_region.as_ref().map(|_| "neutron");
        let wanted = self.handlers.iter().map(|h| h.exchange.as_str());
        for exchange in wanted.chain(floating_ips) {
            if !exchanges.iter().any(|e| e == exchange) {
                exchanges.push(exchange.to_string());
            }
        }
        exchanges
    }

    /// Handles one notification: `Retry` when a write could not be done
    /// now (the Kubernetes API is away), else `Done` (what cannot be
    /// handled is logged and dropped, as Designate's handlers do).
    pub async fn handle(&self, notification: Notification) -> Handled {
        let span = info_span!("sink", event_type = %notification.event_type, message_id = %notification.message_id);
        async {
            if let Err(error) = self.learn(&notification).await {
                if matches!(error, Error::Kube(_)) {
                    warn!(reason = error.reason(), %error, "floating IP not kept: retried");
                    return Handled::Retry;
                }
                warn!(reason = error.reason(), %error, "floating IP notification dropped");
            }
            for config in &self.handlers {
                if !config.kind.event_types().contains(&notification.event_type.as_str()) {
                    continue;
                }
                match self.run(config, &notification).await {
                    Ok(()) => {}
                    Err(error @ Error::Kube(_)) => {
                        warn!(reason = error.reason(), %error, "sink write failed: retried");
                        return Handled::Retry;
                    }
                    Err(error) => {
                        warn!(handler = config.kind.plugin_name(), reason = error.reason(), %error, "notification dropped");
                    }
                }
            }
            Handled::Done
        }
        .instrument(span)
        .await
    }

    /// Keeps the floating IP the notification tells of, when floating IPs
    /// are kept.
    async fn learn(&self, notification: &Notification) -> Result<(), Error> {
        let Some(region) = &self.floating_ip_region else {
            return Ok(());
        };
        if !floating_ips::EVENT_TYPES.contains(&notification.event_type.as_str()) {
            return Ok(());
        }
        let learned: Option<Learned> = floating_ips::learn(
            region,
            &notification.event_type,
            &notification.context,
            &notification.payload,
        )?;
        match learned {
            Some(learned) => self.writer.learn(&learned).await,
            None => Ok(()),
        }
    }

    async fn run(&self, config: &HandlerConfig, notification: &Notification) -> Result<(), Error> {
        let zone = self.zone(&config.zone_id).await?;
        let handler = Handler {
            kind: config.kind,
            zone: zone.name.clone(),
            formatv4: config.formatv4.clone(),
            formatv6: config.formatv6.clone(),
        };
        let actions = handler.plan(
            &notification.event_type,
            &notification.context,
            &notification.payload,
        )?;
        debug!(handler = config.kind.plugin_name(), ?actions, "planned");
        self.writer.apply(&zone, &actions).await
    }

    /// The zone of `id` (or DNS name), from the cache or the API.
    async fn zone(&self, id: &str) -> Result<ZoneTarget, Error> {
        if let Some((zone, found)) = self.zones.lock().expect("not poisoned").get(id)
            && found.elapsed() < ZONE_CACHE_TIME
        {
            return Ok(zone.clone());
        }
        let zones = Api::<Zone>::all(self.client.clone())
            .list(&ListParams::default())
            .await?;
        let zone = zones
            .items
            .iter()
            .find(|zone| {
                zone.uid().as_deref() == Some(id)
                    || (id.ends_with('.') && zone.spec.name.eq_ignore_ascii_case(id))
            })
            .and_then(ZoneTarget::of)
            .ok_or_else(|| Error::ZoneNotFound(id.to_string()))?;
        self.zones
            .lock()
            .expect("not poisoned")
            .insert(id.to_string(), (zone.clone(), Instant::now()));
        Ok(zone)
    }
}
