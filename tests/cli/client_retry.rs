//! The client's retries: a create whose answer is lost on the way back is sent again with
//! the same Idempotency-Key, and the server answers with the first response — one token,
//! not two.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use crate::common::{TestEnv, expect_exit, json};

/// A TCP proxy to `upstream` that forwards everything, except that on the first
/// connection whose first bytes start with `method` and contain `drop_path`, it forwards the
/// request, waits for the server's answer, and then closes the client's connection
/// without passing the answer on. Returns the proxy's URL and the number of such drops.
fn lossy_proxy(
    upstream: &str,
    method: &'static str,
    drop_path: &'static str,
) -> (String, Arc<AtomicUsize>) {
    // Only a connection's first request is inspected: enough for a fresh `tok` process
    // whose profile already names the org (its first request is the create itself).
    let upstream = upstream.trim_start_matches("http://").to_string();
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind the proxy");
    let url = format!("http://{}", listener.local_addr().unwrap());
    let dropped = Arc::new(AtomicUsize::new(0));
    let drops = Arc::clone(&dropped);
    std::thread::spawn(move || {
        for client in listener.incoming() {
            let Ok(mut client) = client else { return };
            let upstream = upstream.clone();
            let drops = Arc::clone(&drops);
            std::thread::spawn(move || {
                let mut server = TcpStream::connect(&upstream).expect("connect upstream");
                let mut first = vec![0u8; 64 * 1024];
                client
                    .set_read_timeout(Some(Duration::from_secs(10)))
                    .unwrap();
                let n = client.read(&mut first).unwrap_or(0);
                let head = String::from_utf8_lossy(&first[..n]).to_string();
                server.write_all(&first[..n]).unwrap();
                let lose_answer = head.starts_with(method)
                    && head.contains(drop_path)
                    && drops
                        .compare_exchange(0, 1, Ordering::SeqCst, Ordering::SeqCst)
                        .is_ok();
                if lose_answer {
                    // The request may continue in a second packet: pass the rest on, then
                    // read the answer and throw it away with the connection.
                    client
                        .set_read_timeout(Some(Duration::from_millis(200)))
                        .unwrap();
                    let mut rest = [0u8; 4096];
                    while let Ok(m) = client.read(&mut rest) {
                        if m == 0 {
                            break;
                        }
                        server.write_all(&rest[..m]).unwrap();
                    }
                    server
                        .set_read_timeout(Some(Duration::from_secs(10)))
                        .unwrap();
                    let mut answer = [0u8; 4096];
                    let _ = server.read(&mut answer);
                    let _ = client.shutdown(std::net::Shutdown::Both);
                    return;
                }
                let mut c2 = client.try_clone().unwrap();
                let mut s2 = server.try_clone().unwrap();
                client.set_read_timeout(None).unwrap();
                let up = std::thread::spawn(move || {
                    let _ = std::io::copy(&mut c2, &mut s2);
                    let _ = s2.shutdown(std::net::Shutdown::Write);
                });
                let _ = std::io::copy(&mut server, &mut client);
                let _ = client.shutdown(std::net::Shutdown::Both);
                let _ = up.join();
            });
        }
    });
    (url, dropped)
}

#[test]
fn a_create_whose_answer_was_lost_is_retried_and_mints_once() {
    let env = TestEnv::new();
    let server = env.start_server(&[]);
    let (proxy, dropped) = lossy_proxy(&server.url, "POST", "/tokens");
    // The profile points at the proxy and knows its org, so the create's first connection
    // carries the POST itself.
    env.login(&proxy);
    env.ok(&["tenant", "create", "acme", "-q"]);

    let out = env.run(&[
        "token", "create", "--tenant", "acme", "--name", "once", "-o", "json",
    ]);
    expect_exit(&out, 0);
    assert_eq!(
        dropped.load(Ordering::SeqCst),
        1,
        "the first answer was lost"
    );
    let created = json(&out);
    assert!(created["token"].as_str().unwrap().starts_with("ey"));

    let listed = env.ok_json(&["token", "list", "--tenant", "acme", "--all"]);
    let tokens = listed.as_array().unwrap();
    assert_eq!(tokens.len(), 1, "one token, not two: {listed}");
    assert_eq!(tokens[0]["id"], created["id"]);
}
