//! The IO half of every simulated connection: frames in, the sans-IO session, frames out.

use std::time::Duration;

use crate::hub::Pushes;
use axum::extract::ws::CloseFrame;
use axum::extract::ws::Message;
use axum::extract::ws::WebSocket;
use futures_util::SinkExt;
use futures_util::StreamExt;
use telewire_protocols::frame::Close;
use telewire_protocols::frame::CloseCode;
use telewire_protocols::frame::Inbound;
use telewire_protocols::frame::Outbound;
use telewire_protocols::session::ServerSession;
use telewire_protocols::time::Timestamp;

use crate::clock::Clock;
use crate::faults::shape::Outgoing;
use crate::judge::Watch;
use crate::link::Command;
use crate::link::Link;
use crate::link::LinkState;
use crate::link::SessionFault;
use crate::shutdown::Shutdown;

/// What a simulated API does around its session: it reacts to the session's events
/// (route a publish, ingest a batch) and turns pushes from the devices into session inputs.
pub trait Application<S: ServerSession>: Send {
    /// What the devices push to this connection.
    type Push: Send + 'static;

    /// The session reported `event` at `now`.
    fn on_event(&mut self, session: &mut S, event: S::Event, now: Timestamp);

    /// A device pushed `push` at `now`.
    fn on_push(&mut self, session: &mut S, push: Self::Push, now: Timestamp);

    /// The connection ended (any way): release whatever it held.
    fn on_close(&mut self) {}

    /// An API-level fault for this connection's session arrived at `now` (Mosaic's session
    /// timeout and new session key); APIs without such faults ignore it.
    fn on_fault(&mut self, _session: &mut S, _fault: SessionFault, _now: Timestamp) {}
}

/// How a connection ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ended {
    /// The session closed it with this frame.
    BySession(Close),
    /// The client closed it or went away.
    ByClient,
    /// The server shut down (close 1001 sent).
    Shutdown,
    /// Dropped without a close frame, on command ([`Command::Abort`]).
    Aborted,
}

/// How long writing the shutdown close frame may take.
const CLOSE_WRITE: Duration = Duration::from_millis(500);

/// Pushes handed to the session before its frames are written.
const PUSH_BATCH: usize = 64;

/// How long to wait for the client's close reply after sending a close frame.
const CLOSE_LINGER: Duration = Duration::from_secs(2);

/// Drives `session` over `socket` until either side closes or `shutdown` fires.
///
/// The order follows the session contract: feed an input, drain events into the
/// application (which may queue more frames), write every queued frame, then wait for the
/// next frame, push, deadline or shutdown.
pub async fn drive<S, A>(
    socket: WebSocket,
    session: S,
    app: A,
    pushes: impl Into<Pushes<A::Push>>,
    clock: Clock,
    shutdown: Shutdown,
) -> Ended
where
    S: ServerSession + Send,
    A: Application<S>,
{
    drive_watched(socket, session, app, pushes, clock, shutdown, Watch::off()).await
}

/// [`drive`], with judge mode's `watch` seeing every frame in and out.
///
/// The connection is listed in the live connection list while it is driven (when `watch`
/// carries its ticket), and queues registered in a hub from inside the drive are tied to
/// it (their drops count on it, and a closing slow-consumer policy closes it).
pub async fn drive_watched<S, A>(
    socket: WebSocket,
    session: S,
    app: A,
    pushes: impl Into<Pushes<A::Push>>,
    clock: Clock,
    shutdown: Shutdown,
    mut watch: Watch,
) -> Ended
where
    S: ServerSession + Send,
    A: Application<S>,
{
    let link = watch.take_link().map(|ticket| ticket.register());
    let pushes = pushes.into();
    let Some(state) = link.as_ref().map(|link| link.state().clone()) else {
        return drive_linked(socket, session, app, pushes, clock, shutdown, watch, None).await;
    };
    pushes.attach(&state);
    let drive = drive_linked(socket, session, app, pushes, clock, shutdown, watch, link);
    crate::hub::CURRENT_LINK.scope(state, drive).await
}

#[allow(clippy::too_many_arguments)]
async fn drive_linked<S, A>(
    socket: WebSocket,
    mut session: S,
    mut app: A,
    mut pushes: Pushes<A::Push>,
    clock: Clock,
    mut shutdown: Shutdown,
    mut watch: Watch,
    mut link: Option<Link>,
) -> Ended
where
    S: ServerSession + Send,
    A: Application<S>,
{
    // Shutdown waits for this guard: it is released once the 1001 close is written.
    let mut open = Some(shutdown.connection());
    let state = link.as_ref().map(|link| link.state().clone());
    let state = state.as_deref();
    if let Some(state) = state {
        state.set_view(session.view());
    }
    let (mut tx, mut rx) = socket.split();
    let mut pushes_open = true;
    // Lasting faults (latency, drop, duplicate, stall) act on every frame written.
    let mut out = Outgoing::new(state.map_or(0, LinkState::id));
    // Whether the frames the session queues now answer a push (data) or the client.
    let mut data = false;
    let ended = loop {
        // A client that stops reading blocks the write; shutdown must not wait on it (no
        // close frame can reach such a client anyway).
        let closing = tokio::select! {
            biased;
            closing = flush(&mut session, &mut app, &mut out, data, &mut tx, &clock, &mut watch, state) => closing,
            () = shutdown.wait() => break Ended::Shutdown,
            close = close_requested(state) => {
                break close_now(&mut tx, &mut watch, &clock, close).await;
            }
        };
        data = false;
        match closing {
            Ok(Some(close)) => break Ended::BySession(close),
            Ok(None) => {}
            Err(()) => break Ended::ByClient,
        }
        if let Some(probe) = watch.flushed(clock.now())
            && tx.send(to_message(probe)).await.is_err()
        {
            break Ended::ByClient;
        }
        let deadline = session.poll_timeout().map(|t| clock.instant_at(t));
        tokio::select! {
            msg = rx.next() => match msg {
                Some(Ok(Message::Text(text))) => {
                    watch.inbound(clock.now(), &Inbound::Text(text.as_str()));
                    session.handle_frame(clock.now(), Inbound::Text(text.as_str()));
                    observed(state, &session, text.len());
                }
                Some(Ok(Message::Binary(bytes))) => {
                    watch.inbound(clock.now(), &Inbound::Binary(&bytes));
                    session.handle_frame(clock.now(), Inbound::Binary(&bytes));
                    observed(state, &session, bytes.len());
                }
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
                Some(Err(err)) if exceeds_size_limit(&err) => {
                    // Over the transport's cap the frame is never read, so the session
                    // cannot judge it: the documented answer to an oversized message is 1009.
                    let close = Close::new(CloseCode::MESSAGE_TOO_BIG, "message too big");
                    tracing::debug!(%err, "closing 1009");
                    watch.oversized(clock.now());
                    watch.outbound(clock.now(), &Outbound::Close(close.clone()));
                    let _ = tokio::time::timeout(
                        CLOSE_WRITE,
                        tx.send(to_message(Outbound::Close(close.clone()))),
                    )
                    .await;
                    break Ended::BySession(close);
                }
                Some(Ok(Message::Close(frame))) => {
                    watch.client_closed(clock.now(), frame.map(|f| f.code));
                    break Ended::ByClient;
                }
                Some(Err(_)) | None => {
                    watch.client_closed(clock.now(), None);
                    break Ended::ByClient;
                }
            },
            () = sleep_until_opt(out.next_due()) => {
                if write_due(&mut out, &mut tx, &clock, &mut watch, state).await.is_err() {
                    break Ended::ByClient;
                }
            }
            () = sleep_until_opt(deadline) => {
                session.handle_timeout(clock.now());
                if let Some(state) = state {
                    state.set_view(session.view());
                }
            }
            command = next_command(&mut link) => match command {
                Command::Send(Outbound::Close(close)) | Command::Close(close) => {
                    let now = tokio::time::Instant::now();
                    out.close(Outbound::Close(close.clone()), now);
                    // Bounded: what latency still holds back, then the usual close write.
                    let bound = out
                        .last_due()
                        .map_or(Duration::ZERO, |due| due.saturating_duration_since(now));
                    let _ = tokio::time::timeout(
                        bound + CLOSE_WRITE,
                        drain(&mut out, &mut tx, &clock, &mut watch, state),
                    )
                    .await;
                    break Ended::BySession(close);
                }
                Command::Send(frame) => {
                    let routed = out.route(frame, false, tokio::time::Instant::now());
                    count_dropped(state, routed.dropped);
                    if write_due(&mut out, &mut tx, &clock, &mut watch, state).await.is_err() {
                        break Ended::ByClient;
                    }
                }
                Command::Abort => break Ended::Aborted,
                Command::Shape(change) => out.apply(change, tokio::time::Instant::now()),
                Command::Session(fault) => app.on_fault(&mut session, fault, clock.now()),
            },
            close = close_requested(state) => {
                break close_now(&mut tx, &mut watch, &clock, close).await;
            }
            push = pushes.recv(), if pushes_open => match push {
                Some(push) => {
                    data = true;
                    let now = clock.now();
                    app.on_push(&mut session, push, now);
                    // Take what else is queued now, so that a burst leaves in one write
                    // instead of one write (and one wake-up) per push.
                    for _ in 1..PUSH_BATCH {
                        match pushes.try_recv() {
                            Some(push) => app.on_push(&mut session, push, now),
                            None => break,
                        }
                    }
                }
                None => pushes_open = false,
            },
            () = shutdown.wait() => {
                let close = Close::new(CloseCode::GOING_AWAY, "server shutting down");
                // Bounded: a client that stopped reading cannot take the close frame.
                let _ = tokio::time::timeout(
                    CLOSE_WRITE,
                    tx.send(to_message(Outbound::Close(close))),
                )
                .await;
                drop(open.take());
                linger(&mut rx).await;
                break Ended::Shutdown;
            }
        }
    };
    // The close frame is out (or cannot go out): shutdown need not wait for the rest.
    drop(open.take());
    match ended {
        Ended::BySession(_) => linger(&mut rx).await,
        // Completes the closing handshake: the WebSocket queued its close reply when the
        // client's close frame arrived; closing the sink writes it.
        Ended::ByClient => {
            let _ = tokio::time::timeout(CLOSE_LINGER, tx.close()).await;
        }
        Ended::Shutdown | Ended::Aborted => {}
    }
    if watch.is_on() {
        let how = match &ended {
            Ended::BySession(close) => format!("the server closed with {}", close.code.0),
            Ended::ByClient => "the client closed".to_owned(),
            Ended::Shutdown => "the server shut down".to_owned(),
            Ended::Aborted => "the server dropped it without a close frame".to_owned(),
        };
        watch.finish(clock.now(), &how);
    }
    app.on_close();
    drop(link);
    ended
}

/// A close requested of the connection out of turn (see [`LinkState::request_close`]).
async fn close_requested(state: Option<&LinkState>) -> Close {
    match state {
        Some(state) => state.close_requested().await,
        None => std::future::pending().await,
    }
}

/// Writes `close` (bounded: a client that stopped reading cannot take it) and ends.
async fn close_now<W>(tx: &mut W, watch: &mut Watch, clock: &Clock, close: Close) -> Ended
where
    W: futures_util::Sink<Message> + Unpin,
{
    tracing::debug!(code = close.code.0, reason = %close.reason, "closing out of turn");
    watch.outbound(clock.now(), &Outbound::Close(close.clone()));
    let _ = tokio::time::timeout(
        CLOSE_WRITE,
        tx.send(to_message(Outbound::Close(close.clone()))),
    )
    .await;
    Ended::BySession(close)
}

/// The next command for the connection; pending forever when it is not registered.
async fn next_command(link: &mut Option<Link>) -> Command {
    match link {
        Some(link) => link.command().await,
        None => std::future::pending().await,
    }
}

/// Counts `n` frames meant for the client and dropped by a fault.
fn count_dropped(state: Option<&LinkState>, n: u64) {
    if let (Some(state), true) = (state, n > 0) {
        state.count_dropped(n);
    }
}

/// Counts a received frame of `len` bytes and records what the session now looks like.
fn observed<S: ServerSession>(state: Option<&LinkState>, session: &S, len: usize) {
    if let Some(state) = state {
        state.count_in(len);
        state.set_view(session.view());
    }
}

/// The payload length of `frame`.
fn frame_len(frame: &Outbound) -> usize {
    match frame {
        Outbound::Text(text) => text.len(),
        Outbound::Binary(bytes) => bytes.len(),
        Outbound::Close(close) => close.reason.len() + 2,
    }
}

/// Whether a read failed because the message or frame is over the configured maximum.
fn exceeds_size_limit(err: &axum::Error) -> bool {
    let text = err.to_string();
    text.contains("Space limit exceeded") || text.contains("too long") || text.contains("too big")
}

async fn sleep_until_opt(deadline: Option<tokio::time::Instant>) {
    match deadline {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// Drains events and frames into `out` (frames that answer a push are `data`), writes
/// what is due; returns the close frame if the session closed, once it is written.
#[allow(clippy::too_many_arguments)]
async fn flush<S, A, W>(
    session: &mut S,
    app: &mut A,
    out: &mut Outgoing,
    data: bool,
    tx: &mut W,
    clock: &Clock,
    watch: &mut Watch,
    state: Option<&LinkState>,
) -> Result<Option<Close>, ()>
where
    S: ServerSession,
    A: Application<S>,
    W: futures_util::Sink<Message> + Unpin,
{
    let mut closed = None;
    'drain: loop {
        let mut progressed = false;
        while let Some(event) = session.poll_event() {
            app.on_event(session, event, clock.now());
            progressed = true;
        }
        while let Some(frame) = session.poll_transmit() {
            progressed = true;
            let now = tokio::time::Instant::now();
            if let Outbound::Close(close) = &frame {
                closed = Some(close.clone());
                out.close(frame, now);
                break 'drain;
            }
            let routed = out.route(frame, data, now);
            count_dropped(state, routed.dropped);
        }
        if !progressed {
            break;
        }
    }
    match closed {
        Some(close) => {
            drain(out, tx, clock, watch, state).await?;
            Ok(Some(close))
        }
        None => {
            write_due(out, tx, clock, watch, state).await?;
            Ok(None)
        }
    }
}

/// Writes every frame of `out` due now.
async fn write_due<W>(
    out: &mut Outgoing,
    tx: &mut W,
    clock: &Clock,
    watch: &mut Watch,
    state: Option<&LinkState>,
) -> Result<(), ()>
where
    W: futures_util::Sink<Message> + Unpin,
{
    let now = tokio::time::Instant::now();
    let mut wrote = false;
    while let Some(frame) = out.next_ready(now) {
        watch.outbound(clock.now(), &frame);
        if let Some(state) = state {
            state.count_out(frame_len(&frame));
        }
        tx.feed(to_message(frame)).await.map_err(|_| ())?;
        wrote = true;
    }
    if wrote {
        tx.flush().await.map_err(|_| ())?;
    }
    Ok(())
}

/// Writes everything `out` holds, waiting for delayed frames to fall due.
async fn drain<W>(
    out: &mut Outgoing,
    tx: &mut W,
    clock: &Clock,
    watch: &mut Watch,
    state: Option<&LinkState>,
) -> Result<(), ()>
where
    W: futures_util::Sink<Message> + Unpin,
{
    loop {
        write_due(out, tx, clock, watch, state).await?;
        match out.next_due() {
            Some(at) => tokio::time::sleep_until(at).await,
            None => return Ok(()),
        }
    }
}

/// Waits (bounded) for the client to answer our close frame, as RFC 6455 §7.1.1 asks.
async fn linger(rx: &mut futures_util::stream::SplitStream<WebSocket>) {
    let _ = tokio::time::timeout(CLOSE_LINGER, async {
        while let Some(Ok(msg)) = rx.next().await {
            if let Message::Close(_) = msg {
                break;
            }
        }
    })
    .await;
}

/// The axum message for an outbound frame.
pub fn to_message(frame: Outbound) -> Message {
    match frame {
        Outbound::Text(text) => Message::Text(text.into()),
        Outbound::Binary(bytes) => Message::Binary(bytes.into()),
        Outbound::Close(close) => Message::Close(Some(CloseFrame {
            code: close.code.0,
            reason: telewire_protocols::frame::truncate_reason(&close.reason).into(),
        })),
    }
}
