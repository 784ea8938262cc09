//! One `IntersectionObserver` per section list (browser only). Each lazily loaded section registers a
//! watch element under a key: for a `medium` section a box reaching 200 px beyond it on both sides,
//! for a `low` section the section itself. When a watched element intersects the viewport the
//! observer stops watching it and sets that section's trigger, once; when nothing is left to watch it
//! disconnects. On the server there is nothing to observe and [`Observer`] is empty.

#[cfg(feature = "hydrate")]
mod browser {
    use std::cell::RefCell;
    use std::collections::HashMap;
    use std::rc::Rc;

    use leptos::prelude::*;
    use wasm_bindgen::closure::Closure;
    use wasm_bindgen::JsCast;
    use web_sys::{Element, IntersectionObserver, IntersectionObserverEntry};

    type Waiting = Rc<RefCell<HashMap<String, RwSignal<bool>>>>;

    /// The list's observer and the triggers of the sections it still waits for.
    pub struct Observer {
        observer: IntersectionObserver,
        waiting: Waiting,
        _callback: Closure<dyn FnMut(js_sys::Array, IntersectionObserver)>,
    }

    impl Observer {
        /// A new observer of the viewport; `None` where the browser has none (then sections load at
        /// once).
        pub fn new() -> Option<Observer> {
            let waiting: Waiting = Rc::default();
            let seen = waiting.clone();
            let callback = Closure::<dyn FnMut(js_sys::Array, IntersectionObserver)>::new(
                move |entries: js_sys::Array, observer: IntersectionObserver| {
                    for entry in entries.iter() {
                        let entry: IntersectionObserverEntry = entry.unchecked_into();
                        if !entry.is_intersecting() {
                            continue;
                        }
                        let target = entry.target();
                        observer.unobserve(&target);
                        let key = target.get_attribute("data-watch").unwrap_or_default();
                        let trigger = seen.borrow_mut().remove(&key);
                        if let Some(trigger) = trigger {
                            trigger.set(true);
                        }
                    }
                    if seen.borrow().is_empty() {
                        observer.disconnect();
                    }
                },
            );
            let observer = IntersectionObserver::new(callback.as_ref().unchecked_ref()).ok()?;
            Some(Observer {
                observer,
                waiting,
                _callback: callback,
            })
        }

        /// Watches `element` (which carries `data-watch="{key}"`) and sets `trigger` when it comes
        /// into view.
        pub fn watch(&self, element: &Element, key: &str, trigger: RwSignal<bool>) {
            self.waiting.borrow_mut().insert(key.to_string(), trigger);
            self.observer.observe(element);
        }

        /// Stops watching everything (the list is gone).
        pub fn disconnect(&self) {
            self.observer.disconnect();
            self.waiting.borrow_mut().clear();
        }
    }
}

#[cfg(feature = "hydrate")]
pub use browser::Observer;

/// Nothing to observe outside the browser.
#[cfg(not(feature = "hydrate"))]
pub struct Observer;
