//! The control page in a real browser: `telewire serve` runs, headless Chromium loads the
//! page through chromedriver (W3C WebDriver over plain HTTP), sees all five simulators and a
//! connected client, clicks that client's "close" fault button, and the client is closed
//! with the chosen code.
//!
//! Needs Debian's `chromium` and `chromium-driver`. Without chromedriver the test says why
//! and passes, unless `CI` is set: then it fails.

use std::io::Read as _;
use std::io::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use futures_util::SinkExt;
use futures_util::StreamExt;
use serde_json::Value;
use serde_json::json;
use tokio::io::AsyncBufReadExt;
use tokio::io::AsyncReadExt as _;
use tokio::io::AsyncWriteExt;
use tokio::io::BufReader;
use tokio::net::TcpStream;
use tokio::process::Child;
use tokio::process::Command;
use tokio_tungstenite::MaybeTlsStream;
use tokio_tungstenite::tungstenite::Message;

const BIN: &str = env!("CARGO_BIN_EXE_telewire");
/// Upper bound on every wait of the test (start-up, page load, DOM polling, the close).
const WAIT: Duration = Duration::from_secs(60);
/// The close code chosen in the page's form.
const CODE: u16 = 4321;
const REASON: &str = "closed by the browser test";

/// `name` on the PATH.
fn which(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(name))
            .find(|path| path.is_file())
    })
}

/// Reads `child`'s stdout line by line until `pick` returns a value; the rest is drained.
async fn read_until<T>(
    child: &mut Child,
    what: &str,
    mut pick: impl FnMut(&str) -> Option<T>,
) -> T {
    let stdout = child.stdout.take().expect("stdout is piped");
    let mut lines = BufReader::new(stdout).lines();
    let mut seen = Vec::new();
    let found = tokio::time::timeout(WAIT, async {
        while let Some(line) = lines.next_line().await.expect("stdout reads") {
            if let Some(value) = pick(&line) {
                return Some(value);
            }
            seen.push(line);
        }
        None
    })
    .await
    .unwrap_or_else(|_| panic!("no {what} within {WAIT:?}"));
    let Some(value) = found else {
        panic!("the process ended before printing {what}: {seen:#?}");
    };
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    value
}

/// One HTTP/1.1 request with `Connection: close` to chromedriver; the JSON answer.
async fn webdriver(driver: SocketAddr, method: &str, path: &str, body: Option<Value>) -> Value {
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {driver}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let exchange = async {
        let stream = TcpStream::connect(driver)
            .await
            .expect("chromedriver accepts");
        let mut stream = BufReader::new(stream);
        stream
            .get_mut()
            .write_all(request.as_bytes())
            .await
            .expect("request written");
        // chromedriver keeps the connection open: read the head, then Content-Length bytes.
        let mut head = String::new();
        loop {
            let mut line = String::new();
            let n = stream.read_line(&mut line).await.expect("head read");
            if n == 0 || line == "\r\n" {
                break;
            }
            head.push_str(&line);
        }
        let length: usize = head
            .lines()
            .filter_map(|l| l.split_once(':'))
            .find(|(name, _)| name.trim().eq_ignore_ascii_case("content-length"))
            .and_then(|(_, value)| value.trim().parse().ok())
            .unwrap_or_else(|| panic!("{method} {path}: no Content-Length in {head}"));
        let mut body = vec![0; length];
        stream.read_exact(&mut body).await.expect("body read");
        (head, String::from_utf8(body).expect("UTF-8 answer"))
    };
    let (head, body) = tokio::time::timeout(WAIT, exchange)
        .await
        .unwrap_or_else(|_| panic!("chromedriver did not answer {method} {path}"));
    let answer: Value = serde_json::from_str(&body)
        .unwrap_or_else(|e| panic!("{method} {path}: {e}: {head}\n{body}"));
    let status: u16 = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    assert_eq!(status, 200, "{method} {path} failed: {answer}");
    answer["value"].clone()
}

/// A browser session; ended (the browser quits) when dropped, also on a failed assertion.
struct Session {
    driver: SocketAddr,
    id: String,
}

impl Session {
    fn path(&self, rest: &str) -> String {
        format!("/session/{}{rest}", self.id)
    }

    async fn cmd(&self, method: &str, rest: &str, body: Option<Value>) -> Value {
        webdriver(self.driver, method, &self.path(rest), body).await
    }

    /// The element matching `css`, waiting for it up to the session's implicit wait.
    async fn find(&self, css: &str) -> String {
        let found = self
            .cmd(
                "POST",
                "/element",
                Some(json!({"using": "css selector", "value": css})),
            )
            .await;
        found
            .as_object()
            .and_then(|o| o.values().next())
            .and_then(Value::as_str)
            .unwrap_or_else(|| panic!("no element {css}: {found}"))
            .to_owned()
    }

    async fn attribute(&self, element: &str, name: &str) -> String {
        let value = self
            .cmd("GET", &format!("/element/{element}/attribute/{name}"), None)
            .await;
        value.as_str().unwrap_or_default().to_owned()
    }

    async fn type_into(&self, css: &str, text: &str) {
        let element = self.find(css).await;
        self.cmd(
            "POST",
            &format!("/element/{element}/clear"),
            Some(json!({})),
        )
        .await;
        self.cmd(
            "POST",
            &format!("/element/{element}/value"),
            Some(json!({ "text": text })),
        )
        .await;
    }

    /// The text of the first element matching `css` (for failure messages).
    async fn text_of(&self, css: &str) -> Value {
        let script =
            "const e = document.querySelector(arguments[0]); return e ? e.textContent : null;";
        self.cmd(
            "POST",
            "/execute/sync",
            Some(json!({"script": script, "args": [css]})),
        )
        .await
    }

    /// Runs `predicate` (a JS expression) in the page until it holds: the page polls
    /// itself and answers within `WAIT`, bounded by the session's script timeout.
    async fn wait_until(&self, predicate: &str) -> bool {
        let script = format!(
            "const done = arguments[arguments.length - 1]; const start = Date.now(); \
             (function check() {{ \
               if ({predicate}) done(true); \
               else if (Date.now() - start > {limit}) done(false); \
               else setTimeout(check, 50); }})();",
            limit = WAIT.as_millis() / 2
        );
        let value = self
            .cmd(
                "POST",
                "/execute/async",
                Some(json!({"script": script, "args": []})),
            )
            .await;
        value == json!(true)
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        // Blocking and bounded: the browser must not outlive the test.
        let request = format!(
            "DELETE /session/{} HTTP/1.1\r\nHost: {}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            self.id, self.driver
        );
        if let Ok(mut stream) =
            std::net::TcpStream::connect_timeout(&self.driver, Duration::from_secs(5))
        {
            let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
            let _ = stream.write_all(request.as_bytes());
            // The answer's first bytes mean the browser is gone (the connection stays open).
            let _ = stream.read(&mut [0; 1024]);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_shows_every_simulator_and_a_client_and_its_close_button_closes_it() {
    let (Some(chromedriver), Some(chromium)) = (
        which("chromedriver"),
        which("chromium").or_else(|| which("chromium-browser")),
    ) else {
        let why = "chromedriver or chromium is not installed (Debian: apt-get install chromium chromium-driver)";
        if std::env::var_os("CI").is_some() {
            panic!("CI is set and the browser test cannot run: {why}");
        }
        eprintln!("skipping the browser test: {why}");
        return;
    };

    // telewire serve: every API and the control page on free ports.
    let mut serve = Command::new(BIN)
        .args(["serve", "--port", "0", "--control-port", "0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("telewire serve starts");
    let mut robot = None;
    let control: SocketAddr = read_until(&mut serve, "the control page line", |line| {
        let mut words = line.split_whitespace();
        match (words.next(), words.next()) {
            (Some("robot"), Some(addr)) => robot = addr.parse::<SocketAddr>().ok(),
            (Some("control"), Some(url)) => {
                let addr = url.trim_start_matches("http://").trim_end_matches('/');
                return addr.parse().ok();
            }
            _ => {}
        }
        None
    })
    .await;
    let robot = robot.expect("the table lists the robot simulator before the control page");

    // chromedriver on a free port.
    let mut driver = Command::new(chromedriver)
        .arg("--port=0")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("chromedriver starts");
    let port: u16 = read_until(&mut driver, "chromedriver's port", |line| {
        line.split("started successfully on port ")
            .nth(1)
            .and_then(|rest| rest.trim_end_matches('.').trim().parse().ok())
    })
    .await;
    let driver = SocketAddr::from(([127, 0, 0, 1], port));

    // A robot client, connected before the page loads.
    let token = {
        let mut stream = TcpStream::connect(robot).await.expect("robot accepts");
        let request = format!(
            "GET /api/v1/auth/ HTTP/1.1\r\nHost: {robot}\r\nX-API-Key: demo\r\nConnection: close\r\n\r\n"
        );
        stream.write_all(request.as_bytes()).await.expect("written");
        let mut raw = String::new();
        stream.read_to_string(&mut raw).await.expect("read");
        let body = raw.split_once("\r\n\r\n").expect("an answer").1;
        let value: Value = serde_json::from_str(body).expect("JSON token");
        value["token"].as_str().expect("a token").to_owned()
    };
    let (mut client, _) =
        tokio_tungstenite::connect_async(format!("ws://{robot}/wss?token={token}"))
            .await
            .expect("the robot client connects");
    let peer = match client.get_ref() {
        MaybeTlsStream::Plain(tcp) => tcp.local_addr().expect("local address").to_string(),
        _ => unreachable!("plain ws://"),
    };
    let subscribe = json!({"action": "subscribe", "topic": "arm"}).to_string();
    client
        .send(Message::Text(subscribe.into()))
        .await
        .expect("subscribed");

    // The browser.
    let capabilities = json!({"capabilities": {"alwaysMatch": {
        "browserName": "chrome",
        "goog:chromeOptions": {
            "binary": chromium.to_string_lossy(),
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu",
                     "--disable-dev-shm-usage", "--window-size=1600,1200"]
        }
    }}});
    let created = webdriver(driver, "POST", "/session", Some(capabilities)).await;
    let session = Session {
        driver,
        id: created["sessionId"]
            .as_str()
            .expect("a session id")
            .to_owned(),
    };
    let wait_ms = u64::try_from(WAIT.as_millis()).unwrap_or(u64::MAX);
    session
        .cmd(
            "POST",
            "/timeouts",
            Some(json!({"implicit": wait_ms / 2, "script": wait_ms, "pageLoad": wait_ms})),
        )
        .await;
    session
        .cmd(
            "POST",
            "/url",
            Some(json!({"url": format!("http://{control}/")})),
        )
        .await;

    // All five simulators, each with its token.
    for api in ["molecule", "valtronics", "webmacs", "mosaic", "robot"] {
        session
            .find(&format!("section.sim[data-api='{api}']"))
            .await;
    }
    assert!(
        session
            .wait_until("document.querySelectorAll('section.sim dd').length >= 5 * 3")
            .await,
        "the simulators' URLs, logins and tokens are shown"
    );
    // The client, with its auth state and subscription.
    let row = session
        .find(&format!("tr[data-api='robot'][data-peer='{peer}']"))
        .await;
    let id = session.attribute(&row, "data-client").await;
    assert!(id.parse::<u64>().is_ok(), "a client id: {id:?}");
    assert!(
        session
            .wait_until(&format!(
                "(r => r && r.textContent.includes('authenticated as') && r.textContent.includes('arm'))\
                 (document.querySelector(\"tr[data-peer='{peer}']\"))"
            ))
            .await,
        "the client row shows its auth state and subscription: {}",
        session.text_of(&format!("tr[data-peer='{peer}']")).await
    );

    // Close it with a chosen code, from its own row's button.
    session.type_into("#p-robot-code", &CODE.to_string()).await;
    session.type_into("#p-robot-reason", REASON).await;
    let button = session
        .find(&format!(
            "tr[data-client='{id}'] button[data-fault='close'][data-client='{id}']"
        ))
        .await;
    session
        .cmd("POST", &format!("/element/{button}/click"), Some(json!({})))
        .await;

    assert!(
        session
            .wait_until("(r => r && r.textContent.includes(' 200 '))(document.querySelector(\"[data-result='robot']\"))")
            .await,
        "the page shows the admin API's answer: {}",
        session.text_of("[data-result='robot']").await
    );
    let close = tokio::time::timeout(WAIT, async {
        while let Some(msg) = client.next().await {
            match msg {
                Ok(Message::Close(frame)) => return frame,
                Ok(_) => {}
                Err(err) => panic!("the client's connection failed instead of closing: {err}"),
            }
        }
        panic!("the connection ended without a close frame");
    })
    .await
    .unwrap_or_else(|_| panic!("the client was not closed within {WAIT:?} after the click"))
    .expect("a close code");
    assert_eq!(u16::from(close.code), CODE);
    assert_eq!(close.reason.as_str(), REASON);

    // The closed client leaves the list.
    assert!(
        session
            .wait_until(&format!(
                "!document.querySelector(\"tr[data-client='{id}']\")"
            ))
            .await,
        "the closed client leaves the list"
    );
    drop(session);
    drop(driver_guard(serve));
}

/// Ends `child` now rather than at the end of the runtime.
fn driver_guard(mut child: Child) -> Child {
    let _ = child.start_kill();
    child
}
