//! A byte relay between the public port and the tiny_http server (no HTTP parsing here).
//!
//! Why: tiny_http 0.12 keeps a keep-alive connection open until the *client* closes it and
//! offers no way to drop one, so a "reset" or "truncated" answer would leave the client
//! waiting instead of failing. The relay owns the client's socket: to end a connection the
//! server calls the [`Relay::controller`] handle, which half-closes the relay→tiny_http direction;
//! tiny_http then sees EOF, flushes what it wrote and closes, and the relay forwards those bytes
//! and closes the client's socket. The client sees the (partial) bytes, then EOF.
//!
//! It also lets `Drop` free the public port synchronously: the relay owns the listener.

use std::collections::HashMap;
use std::io;
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

/// Both sockets of one relayed connection.
#[derive(Debug)]
struct Pair {
    client: TcpStream,
    backend: TcpStream,
}

#[derive(Debug)]
struct Shared {
    backend: SocketAddr,
    stopping: AtomicBool,
    /// Keyed by the relay's local port towards tiny_http (= the request's `remote_addr` port).
    conns: Mutex<HashMap<u16, Pair>>,
    pumps: Mutex<Vec<JoinHandle<()>>>,
}

/// The running relay.
#[derive(Debug)]
pub(crate) struct Relay {
    addr: SocketAddr,
    shared: Arc<Shared>,
    accept: Option<JoinHandle<()>>,
}

impl Relay {
    /// Serves `listener`, relaying every connection to `backend`.
    pub fn start(listener: TcpListener, backend: SocketAddr) -> io::Result<Relay> {
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            backend,
            stopping: AtomicBool::new(false),
            conns: Mutex::new(HashMap::new()),
            pumps: Mutex::new(Vec::new()),
        });
        let s = Arc::clone(&shared);
        let accept = std::thread::Builder::new()
            .name("sandbox-relay-accept".into())
            .spawn(move || accept_loop(&listener, &s))?;
        Ok(Relay { addr, shared, accept: Some(accept) })
    }

    /// The public address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// A handle that ends the connection whose relay→tiny_http socket has local port `port`
    /// (the request's `remote_addr` port), after every byte tiny_http already wrote has
    /// reached the client.
    pub fn controller(&self) -> Arc<dyn Fn(u16) + Send + Sync> {
        let shared = Arc::clone(&self.shared);
        Arc::new(move |port| {
            if let Some(p) = lock(&shared.conns).get(&port) {
                let _ = p.backend.shutdown(Shutdown::Write);
            }
        })
    }

    /// Stops accepting, closes every connection, joins every thread.
    pub fn stop(&mut self) {
        let Some(accept) = self.accept.take() else { return };
        self.shared.stopping.store(true, Ordering::SeqCst);
        // Wake the blocking accept() with a throw-away connection.
        let mut wake = self.addr;
        if wake.ip().is_unspecified() {
            wake.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
        }
        let _ = TcpStream::connect_timeout(&wake, std::time::Duration::from_secs(1));
        let _ = accept.join();
        for p in lock(&self.shared.conns).values() {
            let _ = p.client.shutdown(Shutdown::Both);
            let _ = p.backend.shutdown(Shutdown::Both);
        }
        let pumps = std::mem::take(&mut *lock(&self.shared.pumps));
        for h in pumps {
            let _ = h.join();
        }
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.stop();
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// See `accept_loop`: new connections reach tiny_http at most this often.
const BACKEND_CONNECT_SPACING: std::time::Duration = std::time::Duration::from_millis(10);

fn accept_loop(listener: &TcpListener, shared: &Arc<Shared>) {
    loop {
        let accepted = listener.accept();
        if shared.stopping.load(Ordering::SeqCst) {
            return;
        }
        let client = match accepted {
            Ok((c, _)) => c,
            Err(e) => {
                // e.g. out of file descriptors: back off instead of spinning
                log::warn!("sandbox relay: accept failed: {e}");
                std::thread::sleep(std::time::Duration::from_millis(10));
                continue;
            }
        };
        if let Err(e) = relay_one(client, shared) {
            log::warn!("sandbox relay: cannot relay a connection: {e}");
        }
        // tiny_http hands each connection to a pool thread for its whole
        // life, and its pool can queue a new connection behind a busy one
        // when two arrive at once (it counts an idle thread that another
        // arrival already woke): with keep-alive the queued connection then
        // waits until some client hangs up. Spacing the connections we open
        // to it gives the woken thread time to take its task first.
        std::thread::sleep(BACKEND_CONNECT_SPACING);
    }
}

fn relay_one(client: TcpStream, shared: &Arc<Shared>) -> io::Result<()> {
    let backend = TcpStream::connect(shared.backend)?;
    // Small request/response exchanges: never wait for Nagle.
    client.set_nodelay(true)?;
    backend.set_nodelay(true)?;
    let port = backend.local_addr()?.port();
    lock(&shared.conns).insert(port, Pair { client: client.try_clone()?, backend: backend.try_clone()? });

    let (c_up, b_up) = (client.try_clone()?, backend.try_clone()?);
    let up = std::thread::Builder::new().name("sandbox-relay-up".into()).spawn(move || {
        let _ = io::copy(&mut &c_up, &mut &b_up);
        // The client is done sending (or gone): let tiny_http see EOF.
        let _ = b_up.shutdown(Shutdown::Write);
    })?;
    let s = Arc::clone(shared);
    let down = std::thread::Builder::new().name("sandbox-relay-down".into()).spawn(move || {
        let _ = io::copy(&mut &backend, &mut &client);
        // tiny_http closed: everything it wrote has been forwarded; end the client's connection.
        let _ = client.shutdown(Shutdown::Both);
        let _ = backend.shutdown(Shutdown::Both);
        lock(&s.conns).remove(&port);
    })?;
    let mut pumps = lock(&shared.pumps);
    pumps.retain(|h| !h.is_finished());
    pumps.push(up);
    pumps.push(down);
    Ok(())
}
