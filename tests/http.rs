//! The `http` host call against real TCP servers on 127.0.0.1 that record every byte they
//! receive: a plugin gets exactly the requests its grant allows onto the wire — no smuggled
//! second request, no path that climbs or slides out of the granted one — and a hostile
//! server (endless chunk sizes, bodies, headers, a slow drip, a redirect) costs the host a
//! bounded answer within the step's time, never a panic.

mod support;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use support::{guests, run_steps};

/// How a test server answers each request.
#[derive(Clone, Copy)]
enum Answer {
    /// A small metrics page.
    Page,
    /// A chunked body whose first chunk claims 2^64-1 bytes.
    ChunkOverflow,
    /// Headers, then body bytes until the client hangs up.
    EndlessBody,
    /// A status line, then header lines until the client hangs up.
    EndlessHeaders,
    /// Headers promising 1000 bytes, then one byte every 100 ms.
    SlowDrip,
    /// A redirect to another server (which must never be asked).
    Redirect(u16),
}

/// What a server received: each request head as it arrived, then whatever followed it on
/// its connection.
#[derive(Clone, Default)]
struct Received(Arc<Mutex<Vec<Vec<u8>>>>);

impl Received {
    /// Every request line (`METHOD TARGET HTTP/1.1`) that arrived, on any connection.
    fn request_lines(&self) -> Vec<String> {
        let connections = self.0.lock().unwrap();
        connections
            .iter()
            .flat_map(|bytes| {
                String::from_utf8_lossy(bytes)
                    .split("\r\n")
                    .filter(|line| line.ends_with(" HTTP/1.1") || line.ends_with(" HTTP/1.0"))
                    .map(str::to_owned)
                    .collect::<Vec<_>>()
            })
            .collect()
    }

    /// Everything received, lossily decoded.
    fn text(&self) -> String {
        let connections = self.0.lock().unwrap();
        connections
            .iter()
            .map(|bytes| String::from_utf8_lossy(bytes).into_owned())
            .collect::<Vec<_>>()
            .join("\n---\n")
    }
}

/// Longest a test server spends on one connection, and most it sends: the servers stop by
/// themselves even if the client never hangs up.
const SERVER_BUDGET: Duration = Duration::from_secs(10);
const SERVER_MAX_BYTES: usize = 64 << 20;

/// Start a server on 127.0.0.1 that answers every connection with `answer` and records what
/// it receives. Returns its port.
fn server(answer: Answer) -> (u16, Received) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let received = Received::default();
    let log = received.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let log = log.clone();
            std::thread::spawn(move || serve(stream, answer, &log));
        }
    });
    (port, received)
}

fn serve(mut stream: TcpStream, answer: Answer, log: &Received) {
    let started = Instant::now();
    let mut bytes = Vec::new();
    stream
        .set_read_timeout(Some(Duration::from_secs(2)))
        .unwrap();
    let mut buffer = [0u8; 8192];
    while !bytes.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut buffer) {
            Ok(0) | Err(_) => break,
            Ok(n) => bytes.extend_from_slice(&buffer[..n]),
        }
    }
    // The request is recorded as soon as it has arrived (a hostile answer below may go on
    // for seconds); whatever follows on the connection is recorded after the answer.
    log.0.lock().unwrap().push(std::mem::take(&mut bytes));
    let within_budget = |sent: usize| sent < SERVER_MAX_BYTES && started.elapsed() < SERVER_BUDGET;
    match answer {
        Answer::Page => {
            let page = "kafka_network_socketserver_networkprocessoravgidlepercent 0.9\n";
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{page}",
                page.len()
            );
        }
        Answer::ChunkOverflow => {
            let _ = stream.write_all(
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffff\r\nhello\r\n",
            );
        }
        Answer::EndlessBody => {
            let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n");
            let block = [b'a'; 64 * 1024];
            let mut sent = 0;
            while within_budget(sent) && stream.write_all(&block).is_ok() {
                sent += block.len();
            }
        }
        Answer::EndlessHeaders => {
            let _ = stream.write_all(b"HTTP/1.1 200 OK\r\n");
            let line = format!("X-Filler: {}\r\n", "a".repeat(1000));
            let mut sent = 0;
            while within_budget(sent) && stream.write_all(line.as_bytes()).is_ok() {
                sent += line.len();
            }
        }
        Answer::SlowDrip => {
            let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n");
            let mut sent = 0;
            while within_budget(sent) && stream.write_all(b"x").is_ok() {
                sent += 1;
                std::thread::sleep(Duration::from_millis(100));
            }
        }
        Answer::Redirect(port) => {
            let _ = write!(
                stream,
                "HTTP/1.1 302 Found\r\nLocation: http://127.0.0.1:{port}/admin\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            );
        }
    }
    // Whatever else the client sends on this connection (a smuggled request) is recorded too.
    stream
        .set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    while let Ok(n) = stream.read(&mut buffer) {
        if n == 0 {
            break;
        }
        bytes.extend_from_slice(&buffer[..n]);
    }
    log.0.lock().unwrap().push(bytes);
}

/// `text` as a RON string literal (Rust's escapes are RON's).
fn ron_string(text: &str) -> String {
    format!("{text:?}")
}

/// Fetch `urls` from one step granted `grant`; returns the outcome and each URL's answer.
fn fetch(urls: &[String], grant: &str, extra: &str) -> (support::Outcome, Vec<String>) {
    let list: Vec<String> = urls.iter().map(|u| ron_string(u)).collect();
    let outcome = run_steps(
        &format!(
            r#"Step(id: "fetch", plugin: "{}", with: {{ "urls": [{}]{extra} }},
                    allow: (http: [{}]), timeout: "10s")"#,
            guests::GUEST_HTTP,
            list.join(", "),
            ron_string(grant)
        ),
        &[],
    );
    let step = outcome.step("fetch");
    assert_eq!(
        step["status"], "pass",
        "the guest must run to the end: {step}"
    );
    let answers = (0..urls.len())
        .map(|i| {
            step["facts"][format!("get.{i}")]
                .as_str()
                .unwrap_or_else(|| panic!("no answer for {:?}: {step}", urls[i]))
                .to_owned()
        })
        .collect();
    (outcome, answers)
}

#[test]
fn only_the_granted_requests_reach_the_server_whatever_the_url_smuggles() {
    let (port, received) = server(Answer::Page);
    let base = format!("http://127.0.0.1:{port}");
    let grant = format!("{base}/metrics");
    // (URL, what the host must answer): "ok" = fetched, "denied" = outside the grant (and the
    // denial names the grant), "invalid" = refused as malformed before anything is sent.
    let cases: Vec<(String, &str)> = vec![
        (format!("{base}/metrics"), "ok"),
        (format!("{base}/metrics/sub?x=1"), "ok"),
        // Request smuggling: CR/LF ends the request line and starts a second request.
        (
            format!(
                "{base}/metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\nPOST /admin/delete HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 5\r\n\r\nhello"
            ),
            "invalid",
        ),
        (format!("{base}/metrics\r\nX-Injected: 1"), "invalid"),
        (format!("{base}/metrics?x=1\n"), "invalid"),
        (format!("{base}/metrics\0"), "invalid"),
        (format!("{base}/metrics\t"), "invalid"),
        (format!("{base}/metrics%0d%0aX-Injected:%201"), "invalid"),
        // Climbing out of the granted path, plainly and encoded.
        (format!("{base}/metrics/../admin"), "denied"),
        (format!("{base}/metrics/./../admin"), "denied"),
        (format!("{base}/metrics%2f..%2fsecret"), "invalid"),
        (format!("{base}/metrics%2F..%2Fsecret"), "invalid"),
        (format!("{base}/metrics/%2e%2e/admin"), "invalid"),
        (format!("{base}/metrics/.%2E/admin"), "invalid"),
        (format!("{base}/metrics/..;/admin"), "invalid"),
        (format!("{base}/metrics\\..\\admin"), "invalid"),
        (format!("{base}/metrics%5c..%5cadmin"), "invalid"),
        (format!("{base}/metrics%252e%252e/admin"), "invalid"),
        // A longer name is not a sub-path.
        (format!("{base}/metricsX"), "denied"),
        (format!("{base}/metrics.bak"), "denied"),
        (format!("{base}/"), "denied"),
        // Another host, port or scheme is another target.
        (format!("http://localhost:{port}/metrics"), "denied"),
        (
            format!("http://127.0.0.1:{}/metrics", port.wrapping_add(1)),
            "denied",
        ),
        (
            format!("http://127.0.0.1:{port}@127.0.0.2:{port}/metrics"),
            "invalid",
        ),
        (format!("https://127.0.0.1:{port}/metrics"), "invalid"),
        ("file:///etc/passwd".to_owned(), "invalid"),
    ];
    let urls: Vec<String> = cases.iter().map(|(url, _)| url.clone()).collect();
    let (_, answers) = fetch(&urls, &grant, "");

    for ((url, expected), answer) in cases.iter().zip(&answers) {
        match *expected {
            "ok" => assert!(answer.starts_with("ok: status 200"), "{url:?}: {answer}"),
            "denied" => {
                assert!(answer.starts_with("denied:"), "{url:?}: {answer}");
                assert!(
                    answer.contains(&format!("granted: {grant}")),
                    "a denial names the grant: {url:?}: {answer}"
                );
            }
            _ => assert!(answer.starts_with("invalid request:"), "{url:?}: {answer}"),
        }
    }
    let mut lines = received.request_lines();
    lines.sort();
    assert_eq!(
        lines,
        ["GET /metrics HTTP/1.1", "GET /metrics/sub?x=1 HTTP/1.1"],
        "exactly the granted requests, and nothing else, reached the server:\n{}",
        received.text()
    );
    let everything = received.text().to_ascii_lowercase();
    for smuggled in ["post", "admin", "secret", "x-injected"] {
        assert!(
            !everything.contains(smuggled),
            "`{smuggled}` reached the server:\n{everything}"
        );
    }
}

#[test]
fn hostile_servers_cost_a_bounded_answer_within_the_deadline_never_a_panic() {
    let (admin_port, admin_received) = server(Answer::Page);
    let servers = [
        ("overflow", server(Answer::ChunkOverflow)),
        ("endless-body", server(Answer::EndlessBody)),
        ("endless-headers", server(Answer::EndlessHeaders)),
        ("drip", server(Answer::SlowDrip)),
        ("redirect", server(Answer::Redirect(admin_port))),
    ];
    let steps: Vec<String> = servers
        .iter()
        .map(|(id, (port, _))| {
            let url = format!("http://127.0.0.1:{port}/metrics");
            format!(
                r#"Step(id: "{id}", plugin: "{}", with: {{ "urls": ["{url}"], "max_bytes": 1000, "timeout_ms": 1500 }},
                        allow: (http: ["{url}", "http://127.0.0.1:{admin_port}/admin"]), timeout: "5s")"#,
                guests::GUEST_HTTP
            )
        })
        .collect();
    let outcome = run_steps(&steps.join(",\n"), &[]);
    let answer = |id: &str| {
        let step = outcome.step(id);
        assert_eq!(
            step["status"], "pass",
            "the host answered with a value, the guest reported it: {step}"
        );
        let ms = step["duration_ms"].as_u64().unwrap();
        assert!(ms < 4_000, "{id} took {ms} ms: {step}");
        step["facts"]["get.0"].as_str().unwrap().to_owned()
    };

    let overflow = answer("overflow");
    assert!(overflow.starts_with("unavailable:"), "{overflow}");
    assert_eq!(
        answer("endless-body"),
        "ok: status 200, 1000 bytes, truncated true",
        "an endless body is cut at the plugin's cap"
    );
    let headers = answer("endless-headers");
    assert!(headers.starts_with("unavailable:"), "{headers}");
    let drip = answer("drip");
    assert!(
        drip == "timed out" || drip.starts_with("unavailable:"),
        "{drip}"
    );
    assert!(
        answer("redirect").starts_with("ok: status 302"),
        "a redirect is returned, not followed"
    );
    assert!(
        admin_received.request_lines().is_empty(),
        "the redirect target was asked: {}",
        admin_received.text()
    );
    assert!(
        outcome.elapsed < Duration::from_secs(8),
        "the run took {:?}",
        outcome.elapsed
    );
    for (id, (_, received)) in &servers {
        assert_eq!(
            received.request_lines(),
            ["GET /metrics HTTP/1.1"],
            "{id}: one request per GET"
        );
    }
}

#[test]
fn the_step_deadline_bounds_a_get_whatever_timeout_the_plugin_asks() {
    let (port, _) = server(Answer::SlowDrip);
    let url = format!("http://127.0.0.1:{port}/metrics");
    let outcome = run_steps(
        &format!(
            r#"Step(id: "drip", plugin: "{}", with: {{ "urls": ["{url}"], "timeout_ms": 60000 }},
                    allow: (http: ["{url}"]), timeout: "2s")"#,
            guests::GUEST_HTTP
        ),
        &[],
    );
    let step = outcome.step("drip");
    let ms = step["duration_ms"].as_u64().unwrap();
    assert!((1_900..3_500).contains(&ms), "the GET ran {ms} ms: {step}");
    assert_ne!(
        step["facts"]["get.0"].as_str().map(|a| a.starts_with("ok")),
        Some(true),
        "{step}"
    );
}
