//! WebSockets kept in a thread-local table, so components hold only a `Copy + Send` id
//! (Leptos' reactive closures must be `Send`, a `web_sys::WebSocket` is not).

use std::cell::{Cell, RefCell};
use std::collections::HashMap;

use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;
use web_sys::{CloseEvent, MessageEvent, WebSocket};

type Callbacks = (
    Closure<dyn FnMut(MessageEvent)>,
    Closure<dyn FnMut(CloseEvent)>,
    Closure<dyn FnMut()>,
);

thread_local! {
    static SOCKETS: RefCell<HashMap<u32, (WebSocket, Callbacks)>> = RefCell::new(HashMap::new());
    static NEXT: Cell<u32> = const { Cell::new(1) };
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WsId(u32);

/// Opens `url`; `on_text` gets every text frame, `on_state` gets `true` once open and `false`
/// when the socket closes (by either side).
pub fn open(
    url: &str,
    on_text: impl Fn(String) + 'static,
    on_state: impl Fn(bool) + 'static,
) -> Result<WsId, String> {
    let ws = WebSocket::new(url).map_err(|e| format!("websocket: {e:?}"))?;
    let id = NEXT.with(|n| {
        let v = n.get();
        n.set(v + 1);
        v
    });
    let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |ev: MessageEvent| {
        if let Some(text) = ev.data().as_string() {
            on_text(text);
        }
    });
    let on_state = std::rc::Rc::new(on_state);
    let closed = on_state.clone();
    let on_close = Closure::<dyn FnMut(CloseEvent)>::new(move |_ev: CloseEvent| {
        closed(false);
        // Forget the socket (its callbacks are dropped after this call returns).
        wasm_bindgen_futures::spawn_local(async move {
            SOCKETS.with(|s| s.borrow_mut().remove(&id));
        });
    });
    let opened = on_state.clone();
    let on_open = Closure::<dyn FnMut()>::new(move || opened(true));
    ws.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    ws.set_onclose(Some(on_close.as_ref().unchecked_ref()));
    ws.set_onopen(Some(on_open.as_ref().unchecked_ref()));
    SOCKETS.with(|s| {
        s.borrow_mut()
            .insert(id, (ws, (on_message, on_close, on_open)))
    });
    Ok(WsId(id))
}

/// Closes the socket; no callbacks run after this.
pub fn close(id: WsId) {
    if let Some((ws, _callbacks)) = SOCKETS.with(|s| s.borrow_mut().remove(&id.0)) {
        ws.set_onmessage(None);
        ws.set_onclose(None);
        ws.set_onopen(None);
        let _ = ws.close();
    }
}
