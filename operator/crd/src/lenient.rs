//! Objects decoded one by one, so that one the types cannot hold does not
//! stop a watch.
//!
//! A watch decodes every object of a list or an event into `K`; one object
//! that `K` cannot hold (stored before a CRD's schema was tightened, or by a
//! newer version of the operator) fails the whole list, on every relist, and
//! no other object of the kind is seen again. [`Lenient`] decodes the
//! metadata always and the object when it can; [`decoded`] turns a watch of
//! `Lenient<K>` into a watch of `K` that leaves the undecodable objects out
//! and hands each to a reporter once per generation.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;

use futures::{Stream, StreamExt, stream};
use kube::Resource;
use kube::api::ObjectMeta;
use kube::runtime::watcher::Event;
use serde::de::{DeserializeOwned, Error as _};
use serde::{Deserialize, Deserializer};

/// An object as the API holds it: its metadata, and the object decoded as
/// `K` when `K` can hold it.
#[derive(Clone, Debug)]
pub struct Lenient<K> {
    metadata: ObjectMeta,
    decoded: Result<K, String>,
}

impl<K> Lenient<K> {
    /// The object, or why `K` cannot hold it.
    pub fn into_decoded(self) -> Result<K, Box<Undecodable>> {
        let metadata = self.metadata;
        self.decoded
            .map_err(|error| Box::new(Undecodable { metadata, error }))
    }
}

impl<'de, K: DeserializeOwned> Deserialize<'de> for Lenient<K> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = serde_json::Value::deserialize(deserializer)?;
        let metadata = match value.get("metadata") {
            Some(metadata) => ObjectMeta::deserialize(metadata).map_err(D::Error::custom)?,
            None => ObjectMeta::default(),
        };
        let decoded = serde_json::from_value(value).map_err(|e| e.to_string());
        Ok(Self { metadata, decoded })
    }
}

/// The API's names for `Lenient<K>` are `K`'s: an `Api<Lenient<K>>` reads
/// and writes `K`'s objects.
impl<K: Resource<DynamicType = ()>> Resource for Lenient<K> {
    type DynamicType = ();
    type Scope = K::Scope;

    fn kind(dt: &()) -> Cow<'_, str> {
        K::kind(dt)
    }
    fn group(dt: &()) -> Cow<'_, str> {
        K::group(dt)
    }
    fn version(dt: &()) -> Cow<'_, str> {
        K::version(dt)
    }
    fn plural(dt: &()) -> Cow<'_, str> {
        K::plural(dt)
    }
    fn meta(&self) -> &ObjectMeta {
        &self.metadata
    }
    fn meta_mut(&mut self) -> &mut ObjectMeta {
        &mut self.metadata
    }
}

/// An object its type cannot hold: its metadata and the decoding error.
#[derive(Clone, Debug)]
pub struct Undecodable {
    pub metadata: ObjectMeta,
    pub error: String,
}

impl Undecodable {
    fn key(&self) -> Key {
        key_of(&self.metadata)
    }
}

impl fmt::Display for Undecodable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(namespace) = &self.metadata.namespace {
            write!(f, "{namespace}/")?;
        }
        let name = self.metadata.name.as_deref().unwrap_or_default();
        write!(f, "{name} cannot be decoded: {}", self.error)
    }
}

/// `(namespace, name)`.
type Key = (String, String);

fn key_of(metadata: &ObjectMeta) -> Key {
    (
        metadata.namespace.clone().unwrap_or_default(),
        metadata.name.clone().unwrap_or_default(),
    )
}

/// What is known of the undecodable objects: each one's generation last
/// reported.
#[derive(Default)]
struct Known {
    bad: HashMap<Key, Option<i64>>,
    /// The undecodable objects of a list in progress.
    relisting: Option<HashMap<Key, Option<i64>>>,
}

/// What one event of the lenient watch becomes.
enum Step<K> {
    Pass(Event<K>),
    Skip,
    /// Watch again from a fresh list: the consumer may hold an earlier,
    /// decodable version of an object that now cannot be decoded, and the
    /// watch has no `K` to tell it to forget it.
    Restart,
}

impl Known {
    fn step<K: Resource>(
        &mut self,
        event: Event<Lenient<K>>,
        report: &mut impl FnMut(&Undecodable),
    ) -> Step<K> {
        match event {
            Event::Init => {
                self.relisting = Some(HashMap::new());
                Step::Pass(Event::Init)
            }
            Event::InitApply(object) => match object.into_decoded() {
                Ok(object) => Step::Pass(Event::InitApply(object)),
                Err(bad) => {
                    let key = bad.key();
                    let generation = bad.metadata.generation;
                    if self.bad.get(&key) != Some(&generation) {
                        report(&bad);
                    }
                    self.relisting
                        .get_or_insert_default()
                        .insert(key, generation);
                    Step::Skip
                }
            },
            Event::InitDone => {
                self.bad = self.relisting.take().unwrap_or_default();
                Step::Pass(Event::InitDone)
            }
            Event::Apply(object) => match object.into_decoded() {
                Ok(object) => {
                    self.bad.remove(&key_of(object.meta()));
                    Step::Pass(Event::Apply(object))
                }
                Err(bad) => match self.bad.insert(bad.key(), bad.metadata.generation) {
                    Some(generation) if generation == bad.metadata.generation => Step::Skip,
                    Some(_) => {
                        report(&bad);
                        Step::Skip
                    }
                    None => {
                        report(&bad);
                        Step::Restart
                    }
                },
            },
            Event::Delete(object) => match object.into_decoded() {
                Ok(object) => Step::Pass(Event::Delete(object)),
                Err(bad) if self.bad.remove(&bad.key()).is_some() => Step::Skip,
                Err(_) => Step::Restart,
            },
        }
    }
}

/// The watch `watch()` starts, decoded: objects `K` cannot hold are left
/// out and given to `report` (once per generation of each), and the others
/// pass as they came. When an object the consumer may hold turns
/// undecodable, or goes away undecodable, the watch starts again with a
/// fresh list, which leaves it out.
pub fn decoded<K, E, S, W, R>(
    mut watch: W,
    report: R,
) -> impl Stream<Item = Result<Event<K>, E>> + Send + 'static
where
    K: Resource + Send + 'static,
    E: Send + 'static,
    S: Stream<Item = Result<Event<Lenient<K>>, E>> + Send + 'static,
    W: FnMut() -> S + Send + 'static,
    R: FnMut(&Undecodable) + Send + 'static,
{
    let events = watch().boxed();
    let state = (events, Known::default(), watch, report);
    stream::unfold(
        state,
        |(mut events, mut known, mut watch, mut report)| async move {
            let next = loop {
                match events.next().await? {
                    Err(error) => break Err(error),
                    Ok(event) => match known.step(event, &mut report) {
                        Step::Pass(event) => break Ok(event),
                        Step::Skip => {}
                        Step::Restart => events = watch().boxed(),
                    },
                }
            };
            Some((next, (events, known, watch, report)))
        },
    )
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;
    use crate::Recordset;
    use futures::executor::block_on;
    use serde_json::json;

    fn recordset(name: &str, generation: i64, ttl: i64) -> Lenient<Recordset> {
        serde_json::from_value(json!({
            "apiVersion": "designate.openstack.org/v1alpha1",
            "kind": "Recordset",
            "metadata": {"name": name, "namespace": "ns", "generation": generation},
            "spec": {"zoneRef": "z", "name": "www.example.com.", "type": "A", "ttl": ttl},
        }))
        .unwrap()
    }

    type Events = Vec<Event<Lenient<Recordset>>>;

    /// Runs `decoded` over watches that yield `runs` one after the other;
    /// returns what passed (by name), what was reported and how many
    /// watches were started.
    fn run(runs: Vec<Events>) -> (Vec<String>, Vec<String>, usize) {
        let runs = Arc::new(Mutex::new(runs.into_iter()));
        let started = Arc::new(Mutex::new(0));
        let reported = Arc::new(Mutex::new(Vec::new()));
        let watch = {
            let (runs, started) = (runs.clone(), started.clone());
            move || {
                *started.lock().unwrap() += 1;
                let events = runs.lock().unwrap().next().unwrap_or_default();
                stream::iter(events.into_iter().map(Ok::<_, ()>))
            }
        };
        let report = {
            let reported = reported.clone();
            move |bad: &Undecodable| reported.lock().unwrap().push(bad.to_string())
        };
        let passed: Vec<String> = block_on(
            decoded(watch, report)
                .map(|event| match event.unwrap() {
                    Event::Init => "init".to_string(),
                    Event::InitApply(rs) => format!("list {}", rs.metadata.name.unwrap()),
                    Event::InitDone => "done".to_string(),
                    Event::Apply(rs) => format!("apply {}", rs.metadata.name.unwrap()),
                    Event::Delete(rs) => format!("delete {}", rs.metadata.name.unwrap()),
                })
                .collect(),
        );
        let reported = reported.lock().unwrap().clone();
        let started = *started.lock().unwrap();
        (passed, reported, started)
    }

    #[test]
    fn an_undecodable_object_is_left_out_of_a_list_and_reported_once() {
        let list = || {
            vec![
                Event::Init,
                Event::InitApply(recordset("good", 1, 300)),
                Event::InitApply(recordset("bad", 1, 4_294_967_296)),
                Event::InitDone,
            ]
        };
        let mut events = list();
        // The status written about it does not report it again; a new
        // generation does.
        events.push(Event::Apply(recordset("bad", 1, 4_294_967_296)));
        events.push(Event::Apply(recordset("bad", 2, 4_294_967_297)));
        events.push(Event::Apply(recordset("other", 1, 60)));
        let (passed, reported, started) = run(vec![events, list()]);
        assert_eq!(
            passed,
            ["init", "list good", "done", "apply other"],
            "the bad object never passes and the watch goes on"
        );
        assert_eq!(reported.len(), 2, "{reported:?}");
        assert!(
            reported[0].starts_with("ns/bad cannot be decoded"),
            "{reported:?}"
        );
        assert_eq!(started, 1);
    }

    #[test]
    fn an_object_turning_undecodable_restarts_the_watch_and_is_forgotten_when_deleted() {
        let first = vec![
            Event::Init,
            Event::InitApply(recordset("a", 1, 300)),
            Event::InitDone,
            Event::Apply(recordset("a", 2, 4_294_967_296)),
            Event::Apply(recordset("never", 1, 300)),
        ];
        let second = vec![
            Event::Init,
            Event::InitApply(recordset("a", 2, 4_294_967_296)),
            Event::InitDone,
            Event::Delete(recordset("a", 2, 4_294_967_296)),
            Event::Apply(recordset("a", 3, 300)),
        ];
        let (passed, reported, started) = run(vec![first, second]);
        assert_eq!(
            passed,
            ["init", "list a", "done", "init", "done", "apply a"],
            "the fresh list leaves it out; its delete is not passed"
        );
        assert_eq!(reported.len(), 1, "reported once: {reported:?}");
        assert_eq!(started, 2);
    }
}
