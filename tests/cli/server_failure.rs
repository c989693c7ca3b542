//! `tok server` refusing bad input: never a 500, always problem+json with its own code;
//! lockout over HTTP; graceful shutdown; a log without secrets; refused start options.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{Value, json};

use crate::common::{ADMIN, ADMIN_PASSWORD, TestEnv, expect_exit, path_str, stderr};
use crate::server_api::{Api, Reply, create_tenant, forget_exited};

const TENANTS: &str = "/v1/orgs/local/tenants";

/// A 401 problem with `code` and a `WWW-Authenticate` challenge.
#[track_caller]
fn unauthorized(reply: &Reply, code: &str) -> Value {
    let p = reply.problem(401, code);
    let challenge = reply.header("www-authenticate").unwrap_or_default();
    assert!(
        challenge.starts_with("Bearer"),
        "WWW-Authenticate: {challenge:?}"
    );
    p
}

#[test]
fn requests_without_a_good_session_token_are_refused_each_with_its_code() {
    let env = TestEnv::new();
    let server = env.start_server(&[]);
    let anonymous = Api::anonymous(&server);
    let none = anonymous.get(TENANTS);
    let p = unauthorized(&none, "unauthenticated");
    assert!(p["hint"].is_string(), "{p}");

    let basic = anonymous.send(Method::GET, TENANTS, None, &[("Authorization", "Basic x")]);
    unauthorized(&basic, "invalid_token");

    let api = Api::admin(&server);
    let token = api.token.clone().unwrap();
    // Change the last checksum character: the token is refused without a lookup.
    let last = token.chars().last().unwrap();
    let swapped = if last == 'A' { 'B' } else { 'A' };
    let bad = format!("{}{swapped}", &token[..token.len() - 1]);
    let reply = anonymous.send(
        Method::GET,
        TENANTS,
        None,
        &[("Authorization", &format!("Bearer {bad}"))],
    );
    let p = unauthorized(&reply, "invalid_token");
    assert!(p["detail"].as_str().unwrap().contains("checksum"), "{p}");
    let reply = anonymous.send(
        Method::GET,
        TENANTS,
        None,
        &[("Authorization", "Bearer toks_tooshort")],
    );
    unauthorized(&reply, "invalid_token");

    // A well-formed token the server no longer knows.
    api.get(TENANTS).expect(200);
    api.delete("/v1/auth").expect(204);
    unauthorized(&api.get(TENANTS), "unknown_session");
    unauthorized(&api.delete("/v1/auth"), "unknown_session");
}

#[test]
fn another_org_in_the_path_is_not_found() {
    let env = TestEnv::new();
    let server = env.start_server(&[]);
    let api = Api::admin(&server);
    for path in [
        "/v1/orgs/other",
        "/v1/orgs/other/tenants",
        "/v1/orgs/other/instances/local",
        "/v1/orgs/other/users",
    ] {
        let p = api.get(path).problem(404, "not_found");
        assert!(p["detail"].as_str().unwrap().contains("other"), "{p}");
    }
    api.post("/v1/orgs/other/tenants", &json!({"name": "acme"}))
        .problem(404, "not_found");
    // Nothing was created in the caller's own org either.
    let list = api.get(TENANTS).json();
    assert_eq!(list["items"].as_array().unwrap().len(), 0, "{list}");
}

#[test]
fn bad_requests_are_problems_with_their_own_codes_never_500() {
    let env = TestEnv::new();
    let server = env.start_server(&[]);
    let api = Api::admin(&server);
    let json_body = |text: &str| Some(("application/json", text.as_bytes().to_vec()));
    let post = |body: Option<(&str, Vec<u8>)>| api.send(Method::POST, TENANTS, body, &[]);

    let mut seen = Vec::new();

    let r = post(json_body(r#"{"name": "#));
    let p = r.problem(400, "invalid_input");
    seen.push(r);
    assert!(p["detail"].as_str().unwrap().contains("JSON"), "{p}");

    let r = post(json_body(r#"{"name": 5}"#));
    let p = r.problem(400, "invalid_input");
    seen.push(r);
    assert_eq!(p["field"], "name", "{p}");

    let r = post(json_body(r#"{"description": "no name"}"#));
    let p = r.problem(400, "invalid_input");
    seen.push(r);
    assert_eq!(p["field"], "name", "{p}");

    let r = post(json_body(r#"{"name": "acme", "colour": "red"}"#));
    let p = r.problem(400, "invalid_input");
    seen.push(r);
    assert_eq!(p["field"], "colour", "{p}");

    let r = api.send(
        Method::POST,
        "/v1/orgs/local/tenants/acme/tokens",
        json_body(r#"{"expires": 7}"#),
        &[],
    );
    let p = r.problem(400, "invalid_input");
    seen.push(r);
    assert_eq!(p["field"], "expires", "{p}");

    let r = post(json_body(r#"{"name": "acme"} trailing"#));
    r.problem(400, "invalid_input");
    seen.push(r);

    let r = post(Some(("text/plain", br#"{"name": "acme"}"#.to_vec())));
    r.problem(415, "unsupported_media_type");
    seen.push(r);

    let r = post(None);
    r.problem(415, "unsupported_media_type");
    seen.push(r);

    let big = format!(
        r#"{{"name": "acme", "description": "{}"}}"#,
        "x".repeat(70 * 1024)
    );
    let r = post(json_body(&big));
    r.problem(413, "body_too_large");
    seen.push(r);

    let r = api.send(
        Method::POST,
        TENANTS,
        json_body(&big),
        &[("Idempotency-Key", "req-big")],
    );
    r.problem(413, "body_too_large");
    seen.push(r);

    let r = api.get("/v1/no/such/route");
    let p = r.problem(404, "no_route");
    seen.push(r);
    assert!(
        p["detail"].as_str().unwrap().contains("/v1/no/such/route"),
        "{p}"
    );

    let r = api.get("/v1/orgs/local/tenants?limit=many");
    r.problem(400, "invalid_input");
    seen.push(r);

    let r = api.send(Method::PUT, "/healthz", None, &[]);
    r.problem(405, "method_not_allowed");
    let allow = r.header("allow").expect("an Allow header");
    assert!(allow.contains("GET"), "Allow: {allow}");
    seen.push(r);

    let r = api.send(Method::DELETE, TENANTS, None, &[]);
    r.problem(405, "method_not_allowed");
    assert!(r.header("allow").is_some(), "no Allow header");
    seen.push(r);

    for r in &seen {
        assert!(r.status < 500, "{} {}", r.status, r.text);
        assert!(r.header("x-request-id").is_some(), "{}", r.text);
    }
    // None of them created anything.
    let list = api.get(TENANTS).json();
    assert_eq!(list["items"].as_array().unwrap().len(), 0, "{list}");
    create_tenant(&api, "acme");
}

#[test]
fn failed_logins_lock_the_account_without_saying_so() {
    let env = TestEnv::new();
    let server = env.start_server(&["--lockout-threshold", "3"]);
    let admin = Api::admin(&server);
    let anonymous = Api::anonymous(&server);

    let mut details = Vec::new();
    for _ in 0..3 {
        let p = unauthorized(
            &anonymous.login(ADMIN, "wrong password, again"),
            "invalid_credentials",
        );
        details.push(p["detail"].as_str().unwrap().to_string());
    }
    // Locked: the right password is refused with the same words.
    let p = unauthorized(
        &anonymous.login(ADMIN, ADMIN_PASSWORD),
        "invalid_credentials",
    );
    details.push(p["detail"].as_str().unwrap().to_string());
    // An unknown user reads the same.
    let p = unauthorized(
        &anonymous.login("nobody-here", ADMIN_PASSWORD),
        "invalid_credentials",
    );
    details.push(p["detail"].as_str().unwrap().to_string());
    assert!(
        details.iter().all(|d| *d == details[0]),
        "the details differ: {details:?}"
    );

    let user = admin.get(&format!("/v1/orgs/local/users/{ADMIN}"));
    user.expect(200);
    let user = user.json();
    assert!(user["locked_until"].is_string(), "{user}");
}

/// `host:port` of a server URL.
fn addr_of(url: &str) -> SocketAddr {
    url.strip_prefix("http://")
        .expect("an http URL")
        .parse()
        .expect("IP:PORT")
}

#[test]
fn sigterm_lets_an_in_flight_request_finish_then_exits_cleanly() {
    let env = TestEnv::new();
    let mut server = env.start_server(&[]);
    let addr = addr_of(&server.url);
    let body =
        serde_json::to_string(&json!({"username": ADMIN, "password": ADMIN_PASSWORD})).unwrap();
    let (head, tail) = body.split_at(body.len() / 2);

    let mut stream = TcpStream::connect(addr).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    write!(
        stream,
        "POST /v1/auth HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\n\r\n{head}",
        body.len()
    )
    .unwrap();
    stream.flush().unwrap();
    // Let the server read the head and start the handler before the signal.
    std::thread::sleep(Duration::from_millis(300));
    let pid = server.child.id().to_string();
    let kill = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill runs");
    assert!(kill.success());
    std::thread::sleep(Duration::from_millis(300));
    stream.write_all(tail.as_bytes()).unwrap();
    stream.flush().unwrap();

    let mut response = Vec::new();
    let mut buf = [0u8; 4096];
    // Read until the whole body (by Content-Length) is in, or the server closes.
    loop {
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => response.extend_from_slice(&buf[..n]),
            Err(e) => panic!(
                "reading the response failed ({e}) after {:?}",
                String::from_utf8_lossy(&response)
            ),
        }
        if let Some(complete) = complete_body(&response) {
            response = complete;
            break;
        }
    }
    let text = String::from_utf8_lossy(&response).to_string();
    assert!(text.starts_with("HTTP/1.1 201"), "response: {text}");
    let (_, json_text) = text.split_once("\r\n\r\n").expect("head and body");
    let session: Value = serde_json::from_str(json_text).expect("a JSON body");
    assert!(
        session["auth_token"].as_str().unwrap().starts_with("toks_"),
        "{session}"
    );

    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(status) = server.child.try_wait().expect("try_wait") {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "the server did not exit within 10 s of SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(
        status.code(),
        Some(0),
        "log:\n{}",
        std::fs::read_to_string(&server.log).unwrap_or_default()
    );
    assert!(
        TcpStream::connect_timeout(&addr, Duration::from_secs(2)).is_err(),
        "the port still accepts connections"
    );
    forget_exited(server);
}

/// The response so far when its head is complete and its body has Content-Length bytes.
fn complete_body(response: &[u8]) -> Option<Vec<u8>> {
    let text = String::from_utf8_lossy(response);
    let (head, body) = text.split_once("\r\n\r\n")?;
    let length: usize = head.lines().find_map(|line| {
        let (name, value) = line.split_once(':')?;
        name.trim()
            .eq_ignore_ascii_case("content-length")
            .then(|| value.trim().parse().ok())?
    })?;
    (body.len() >= length).then(|| response.to_vec())
}

#[test]
fn the_log_has_request_ids_and_no_secrets() {
    let env = TestEnv::new();
    let mut server = env.start_server(&[]);
    let api = Api::admin(&server);
    let session = api.token.clone().unwrap();
    create_tenant(&api, "acme");
    let token = api.create(
        "/v1/orgs/local/tenants/acme/tokens",
        &json!({"expires": "7d"}),
    );
    let jwt = token["token"].as_str().unwrap().to_string();
    api.login(ADMIN, "a wrong password here").expect(401);
    api.create(
        "/v1/orgs/local/users",
        &json!({"username": "carol", "password": "carol's own password"}),
    );
    api.get("/v1/no/such/route").expect(404);
    server.terminate().expect("the server stops");

    let log = std::fs::read_to_string(&server.log).expect("server log");
    assert!(log.contains("request_id"), "log:\n{log}");
    for secret in [
        ADMIN_PASSWORD,
        "a wrong password here",
        "carol's own password",
        session.as_str(),
        jwt.as_str(),
    ] {
        assert!(
            !log.contains(secret),
            "the log holds a secret ({secret}):\n{log}"
        );
    }
    forget_exited(server);
}

#[test]
fn start_refuses_unsafe_or_invalid_options_and_changes_nothing() {
    let env = TestEnv::new();
    let database = env.path().join("never.db");
    let db_url = format!("sqlite://{}", database.display());
    let key = path_str(&env.path().join("never.key"));
    let start = |extra: &[&str]| {
        let mut args = vec![
            "server",
            "start",
            "--database",
            &db_url,
            "--master-key-file",
            &key,
        ];
        args.extend_from_slice(extra);
        env.run(&args)
    };

    let out = start(&["--listen", "0.0.0.0:0"]);
    expect_exit(&out, 2);
    assert!(stderr(&out).contains("TLS"), "{}", stderr(&out));
    assert!(out.stdout.is_empty(), "nothing listened");

    let out = start(&["--listen", "nonsense"]);
    expect_exit(&out, 2);
    assert!(stderr(&out).contains("nonsense"), "{}", stderr(&out));

    let out = start(&["--listen", "127.0.0.1:0", "--session-ttl", "0s"]);
    expect_exit(&out, 2);
    assert!(stderr(&out).contains("--session-ttl"), "{}", stderr(&out));

    assert!(!database.exists(), "a database was created");
    assert!(!env.path().join("never.key").exists(), "a key was created");
    assert!(!env.config_dir().join("config.toml").exists());
}
