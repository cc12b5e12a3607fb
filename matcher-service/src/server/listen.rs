//! Accepting connections: warp's filter served by hyper with a header-read timeout.
//!
//! Owns the accept loop and per-connection settings; it knows nothing of routes. warp 0.4's own
//! server (`warp::serve`) gives hyper no timer, so hyper's header-read timeout never fires and
//! a client that sends half a request line holds its connection and task forever (issue 15,
//! item 1). This loop is warp's, with a Tokio timer and [`crate::Config::read_timeout`] as the
//! header deadline; the body deadline is in `api` (reading the body is the handler's work).

use std::future::Future;
use std::time::Duration;

use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use warp::filters::BoxedFilter;
use warp::reply::Response;

/// Serves `app` on `listener` until `shutdown` completes, then stops accepting and waits for
/// open connections to finish their requests.
pub async fn run(
    app: BoxedFilter<(Response,)>,
    listener: tokio::net::TcpListener,
    header_timeout: Duration,
    shutdown: impl Future<Output = ()> + Send + 'static,
) {
    let graceful = GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) if matches!(
                    e.kind(),
                    std::io::ErrorKind::ConnectionRefused
                        | std::io::ErrorKind::ConnectionAborted
                        | std::io::ErrorKind::ConnectionReset
                ) => continue,
                Err(e) => {
                    // Out of file descriptors, most likely: wait for some to close (as warp does).
                    tracing::error!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let service = TowerToHyperService::new(warp::service(app.clone()));
        let watcher = graceful.watcher();
        tokio::spawn(async move {
            let mut builder = auto::Builder::new(TokioExecutor::new());
            builder.http1().timer(TokioTimer::new()).header_read_timeout(header_timeout);
            let connection = builder.serve_connection_with_upgrades(TokioIo::new(stream), service);
            if let Err(e) = watcher.watch(connection).await {
                // Clients that go away mid-request, and the header timeout, land here.
                tracing::debug!(error = %e, "connection closed with an error");
            }
        });
    }
    drop(listener);
    graceful.shutdown().await;
}
