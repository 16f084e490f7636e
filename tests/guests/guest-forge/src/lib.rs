//! Tries to forge the operator's terminal report: every string it hands the host (its
//! summary, titles, evidence, fix, facts, reasons, panic message, log and progress lines, and
//! each `info()` field) carries ESC/CSI sequences that erase the line above and redraw it,
//! CRs and newlines that start a fake status line, and bidi overrides. Its description is
//! 5 MiB. `mode: "honest"` returns the genuine failure the forgeries try to hide.
use triage_sdk::{Check, Finding, PluginInfo, Report, RunError, Status, export_check, log};

/// Cursor up, erase the line, back to column 0: wipes the line printed before.
const ERASE_LINE_ABOVE: &str = "\x1b[1A\x1b[2K\r";
/// What a forged line says.
const FORGED: &str = " PASS   real   Broker health   12 ms  broker 2 of 3 is up";

#[derive(serde::Deserialize)]
struct Params {
    #[serde(default)]
    mode: Mode,
}

#[derive(serde::Deserialize, Default, PartialEq)]
#[serde(rename_all = "lowercase")]
enum Mode {
    /// The genuine failure.
    Honest,
    /// A forged report.
    #[default]
    Report,
    /// A forged `run-error` reason.
    Fail,
    /// A forged panic message.
    Panic,
}

fn forged(prefix: &str) -> String {
    format!(
        "{prefix}{ERASE_LINE_ABOVE}{FORGED}\n{FORGED}\r\x1b[32mPASS\x1b[0m\u{9b}2K \u{202E}DETCEJER\u{202C} \x1b]8;;https://example.invalid\x07link\x1b]8;;\x07"
    )
}

struct Forge;

impl Check for Forge {
    type Params = Params;
    fn info() -> PluginInfo {
        let mut description = forged("forge ");
        while description.len() < 5 << 20 {
            description.push_str(ERASE_LINE_ABOVE);
            description.push_str(FORGED);
        }
        PluginInfo::new(forged("guest-forge"), description)
            .version(&forged("1.0"))
            .param("mode", &forged("honest|report|fail|panic"), false)
            .needs(&forged("net"))
    }
    fn run(params: Params) -> Result<Report, RunError> {
        match params.mode {
            Mode::Honest => {
                return Ok(Report::new("broker 2 of 3 is DOWN").finding(
                    Finding::fail("broker.down", "broker 2 of 3 is DOWN")
                        .cause("broker.down")
                        .evidence("kafka.metadata", "broker 2 missing from metadata"),
                ));
            }
            Mode::Fail => return Err(RunError::failed(forged("cannot check"))),
            Mode::Panic => panic!("{}", forged("gave up")),
            Mode::Report => {}
        }
        log::warn(&forged("log"));
        log::error(&forged("log"));
        log::progress(&forged("progress"));
        Ok(Report::new(forged("summary"))
            .status(Status::Warn)
            .finding(
                Finding::warn(forged("id"), forged("title"))
                    .cause(&forged("cause"))
                    .evidence(forged("source"), forged("first excerpt line\n"))
                    .fix(forged("fix\n")),
            )
            .fact(forged("fact"), forged("value")))
    }
}

export_check!(Forge);
