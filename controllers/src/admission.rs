//! Admission in front of a controller: its requests wait here, once each
//! and in arrival order, and reach kube-runtime's scheduler only while
//! fewer than a bound of them are there unfinished.
//!
//! The scheduler keeps the requests its runner cannot start yet (every slot
//! busy) in a hash set and starts whichever the set yields first. With a
//! backlog (a restart, a bulk load: 100,000 zones) that is hash order: a
//! request in a late bucket waits until the backlog is gone while newer
//! ones pass it, and each start walks the set's emptied front again. Held
//! here instead, the backlog is served first come, first served, and the
//! scheduler's set stays small. The Recordset controller, which is no
//! kube-runtime controller, runs its reconciles straight off an admission.

use std::collections::{HashSet, VecDeque};
use std::hash::Hash;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};

use std::fmt::Debug;
use std::future::Future;

use futures::{Stream, StreamExt};
use kube::Resource;
use kube::runtime::controller::{self, Action, Controller};
use kube::runtime::reflector::{Lookup, ObjectRef};
use prometheus_client::metrics::gauge::Gauge;
use serde::de::DeserializeOwned;
use tracing::debug;

use crate::Error;

/// The requests of one controller between their triggers and its runner:
/// references to the objects to look at.
pub(crate) struct Admission<T> {
    state: Arc<Mutex<State<T>>>,
}

impl<T> Clone for Admission<T> {
    fn clone(&self) -> Self {
        Self {
            state: self.state.clone(),
        }
    }
}

struct State<T> {
    /// Requests passed on at once, at most.
    bound: usize,
    /// Not passed on yet, oldest first; each once. A restart's backlog
    /// holds every object of the kind: one copy of each, shared.
    waiting: VecDeque<Arc<T>>,
    /// What `waiting` holds.
    queued: HashSet<Arc<T>>,
    /// Passed on and not finished.
    admitted: HashSet<T>,
    /// Requested again while admitted: queued again once finished, so that
    /// a change seen during a reconcile gets a reconcile after it.
    again: HashSet<T>,
    /// The stream waiting for room.
    waker: Option<Waker>,
    /// `waiting`'s length, as a metric.
    depth: Gauge,
}

impl<T: Eq + Hash + Clone> State<T> {
    fn request(&mut self, object: T) {
        if self.admitted.contains(&object) {
            self.again.insert(object);
        } else if !self.queued.contains(&object) {
            let object = Arc::new(object);
            self.queued.insert(object.clone());
            self.waiting.push_back(object);
        }
    }

    fn next(&mut self) -> Option<T> {
        if self.admitted.len() >= self.bound {
            return None;
        }
        let object = self.waiting.pop_front()?;
        self.queued.remove(&*object);
        let object = Arc::unwrap_or_clone(object);
        self.admitted.insert(object.clone());
        Some(object)
    }
}

impl<T: Eq + Hash + Clone> Admission<T> {
    /// Passes at most `bound` requests on at once; `depth` shows how many
    /// wait.
    pub(crate) fn new(bound: usize, depth: Gauge) -> Self {
        Self {
            state: Arc::new(Mutex::new(State {
                bound: bound.max(1),
                waiting: VecDeque::new(),
                queued: HashSet::new(),
                admitted: HashSet::new(),
                again: HashSet::new(),
                waker: None,
                depth,
            })),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State<T>> {
        // Nothing panics while holding it.
        self.state.lock().expect("admission lock")
    }

    /// The requests of `triggers`, passed on as room allows. Takes every
    /// request as it comes, so that no trigger (the reflector that feeds
    /// the controller's cache among them) ever waits on the controller.
    /// One stream per admission.
    pub(crate) fn admit<S>(&self, triggers: S) -> impl Stream<Item = T> + use<T, S>
    where
        S: Stream<Item = T> + Unpin,
    {
        Admitted {
            triggers: triggers.fuse(),
            admission: self.clone(),
        }
    }

    /// A reconcile of `object` ended: one more may pass.
    pub(crate) fn finished(&self, object: &T) {
        let mut state = self.lock();
        if !state.admitted.remove(object) {
            // Started by the controller itself (a requeue), not admitted.
            return;
        }
        if let Some(again) = state.again.take(object) {
            state.request(again);
        }
        state.depth.set(state.waiting.len() as i64);
        if let Some(waker) = state.waker.take() {
            waker.wake();
        }
    }
}

impl<K> Admission<ObjectRef<K>>
where
    K: Lookup,
    K::DynamicType: Eq + Hash + Clone,
{
    /// [`Self::finished`] for what a controller's run yields.
    fn ended<E, Q>(&self, result: &Result<(ObjectRef<K>, Action), controller::Error<E, Q>>)
    where
        K: Lookup<DynamicType = ()>,
        E: std::error::Error + 'static,
        Q: std::error::Error + 'static,
    {
        let erased = match result {
            Ok((object, _)) => return self.finished(object),
            Err(controller::Error::ReconcilerFailed(_, object)) => object,
            Err(controller::Error::ObjectNotFound(object)) => object,
            Err(_) => return,
        };
        let mut object = ObjectRef::<K>::new(&erased.name);
        object.namespace.clone_from(&erased.namespace);
        self.finished(&object);
    }
}

/// Runs `controller` until `shutdown`, on `triggers` (its own objects'
/// changes and every other reason to look at one) admitted a few at a
/// time: twice its concurrency, so that the next is at hand when a
/// reconcile ends.
pub(crate) async fn run<K, F>(
    name: &'static str,
    controller: Controller<K>,
    triggers: impl Stream<Item = ObjectRef<K>> + Send + 'static,
    reconcile: impl FnMut(Arc<K>, Arc<crate::Context>) -> F,
    error_policy: impl Fn(Arc<K>, &Error, Arc<crate::Context>) -> Action,
    context: Arc<crate::Context>,
    shutdown: impl Future<Output = ()> + Send + Sync + 'static,
) where
    K: Resource<DynamicType = ()> + Clone + DeserializeOwned + Debug + Send + Sync + 'static,
    F: Future<Output = Result<Action, Error>> + Send + 'static,
{
    let admission = Admission::new(
        2 * usize::from(crate::CONCURRENCY),
        context.metrics.waiting(name),
    );
    controller
        .with_config(crate::controller_config())
        .reconcile_on(admission.admit(Box::pin(triggers.map(|mut object| {
            // The version and uid a watch's refs carry are not needed to
            // find the object in the controller's cache.
            object.extra.resource_version = None;
            object.extra.uid = None;
            object
        }))))
        .graceful_shutdown_on(shutdown)
        .run(reconcile, error_policy, context)
        .for_each(|result| {
            admission.ended(&result);
            if let Err(error) = result {
                debug!(controller = name, %error, "reconcile failed");
            }
            futures::future::ready(())
        })
        .await;
}

struct Admitted<T, S> {
    triggers: futures::stream::Fuse<S>,
    admission: Admission<T>,
}

impl<T, S> Stream for Admitted<T, S>
where
    T: Eq + Hash + Clone,
    S: Stream<Item = T> + Unpin,
{
    type Item = T;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        let mut arrived = Vec::new();
        let ended = loop {
            match this.triggers.poll_next_unpin(cx) {
                Poll::Ready(Some(object)) => arrived.push(object),
                Poll::Ready(None) => break true,
                Poll::Pending => break false,
            }
        };
        let mut state = this.admission.lock();
        for object in arrived {
            state.request(object);
        }
        let next = state.next();
        state.depth.set(state.waiting.len() as i64);
        match next {
            Some(object) => Poll::Ready(Some(object)),
            None if ended && state.waiting.is_empty() => Poll::Ready(None),
            None => {
                state.waker = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use designate_crd::Zone;
    use futures::channel::mpsc;
    use futures::task::noop_waker_ref;

    fn zone(name: &str) -> ObjectRef<Zone> {
        ObjectRef::new(name).within("p")
    }

    /// What the stream yields now, without waiting.
    fn ready<St: Stream + Unpin>(stream: &mut St) -> Vec<St::Item> {
        let mut cx = Context::from_waker(noop_waker_ref());
        let mut out = Vec::new();
        while let Poll::Ready(Some(item)) = stream.poll_next_unpin(&mut cx) {
            out.push(item);
        }
        out
    }

    fn names(objects: Vec<ObjectRef<Zone>>) -> Vec<String> {
        objects.into_iter().map(|o| o.name).collect()
    }

    type Sender = mpsc::UnboundedSender<ObjectRef<Zone>>;

    /// An admission of `bound`, its stream and its trigger, which already
    /// requested `sent`.
    fn admitting(
        bound: usize,
        sent: &[&str],
    ) -> (
        Admission<ObjectRef<Zone>>,
        impl Stream<Item = ObjectRef<Zone>>,
        Sender,
    ) {
        let admission = Admission::<ObjectRef<Zone>>::new(bound, Gauge::default());
        let (tx, rx) = mpsc::unbounded();
        for name in sent {
            tx.unbounded_send(zone(name)).unwrap();
        }
        let admitted = admission.admit(rx);
        (admission, admitted, tx)
    }

    #[test]
    fn requests_pass_once_each_oldest_first_and_within_the_bound() {
        let (admission, admitted, _tx) = admitting(2, &["a", "b", "a", "c", "d", "c"]);
        let mut admitted = std::pin::pin!(admitted);
        let depth = admission.lock().depth.clone();
        assert_eq!(names(ready(&mut admitted)), ["a", "b"]);
        assert_eq!(depth.get(), 2, "c and d wait");
        admission.finished(&zone("b"));
        assert_eq!(names(ready(&mut admitted)), ["c"]);
        admission.finished(&zone("a"));
        admission.finished(&zone("c"));
        assert_eq!(names(ready(&mut admitted)), ["d"]);
        assert_eq!(depth.get(), 0);
    }

    #[test]
    fn a_request_during_its_reconcile_passes_again_after_it() {
        let (admission, admitted, tx) = admitting(4, &["a"]);
        let mut admitted = std::pin::pin!(admitted);
        assert_eq!(names(ready(&mut admitted)), ["a"]);
        tx.unbounded_send(zone("a")).unwrap();
        tx.unbounded_send(zone("a")).unwrap();
        assert!(ready(&mut admitted).is_empty(), "held while a runs");
        admission.finished(&zone("a"));
        assert_eq!(names(ready(&mut admitted)), ["a"], "once more, once");
        admission.finished(&zone("a"));
        assert!(ready(&mut admitted).is_empty());
    }

    #[test]
    fn a_reconcile_it_did_not_admit_frees_nothing() {
        let (admission, admitted, _tx) = admitting(1, &["a", "b"]);
        let mut admitted = std::pin::pin!(admitted);
        assert_eq!(names(ready(&mut admitted)), ["a"]);
        admission.finished(&zone("requeued"));
        assert!(ready(&mut admitted).is_empty());
    }

    #[test]
    fn a_reconcile_that_found_no_object_frees_its_room() {
        let (admission, admitted, _tx) = admitting(1, &["a", "b"]);
        let mut admitted = std::pin::pin!(admitted);
        assert_eq!(names(ready(&mut admitted)), ["a"]);
        let gone: Result<_, controller::Error<Error, kube::runtime::watcher::Error>> = Err(
            controller::Error::ObjectNotFound(Box::new(zone("a").erase())),
        );
        admission.ended(&gone);
        assert_eq!(names(ready(&mut admitted)), ["b"]);
    }

    #[test]
    fn the_stream_ends_when_its_triggers_end_and_nothing_waits() {
        let (admission, admitted, tx) = admitting(1, &["a", "b"]);
        let mut admitted = std::pin::pin!(admitted);
        drop(tx);
        let mut cx = Context::from_waker(noop_waker_ref());
        assert!(matches!(
            admitted.poll_next_unpin(&mut cx),
            Poll::Ready(Some(_))
        ));
        assert!(
            admitted.poll_next_unpin(&mut cx).is_pending(),
            "b waits for room"
        );
        admission.finished(&zone("a"));
        assert!(matches!(
            admitted.poll_next_unpin(&mut cx),
            Poll::Ready(Some(_))
        ));
        assert!(matches!(
            admitted.poll_next_unpin(&mut cx),
            Poll::Ready(None)
        ));
    }
}
