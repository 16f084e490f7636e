//! Everything that can be checked before a run, reported all at once with source spans:
//! duplicate ids, unknown plugins and params, unknown `needs` and `when` steps, cycles, bad
//! durations and sizes, grants and params that use undefined inputs, malformed grants,
//! remediations without the cause they fix, checks waiting for remediations.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::Duration;

use miette::{NamedSource, SourceSpan};

use super::model::{Playbook, Step};
use super::parse::Spanned;
use super::problem::{PlaybookError, Problem};
use super::template::placeholders;
use crate::caps::NetRule;

/// Longest step timeout a playbook may ask for.
pub const MAX_TIMEOUT: Duration = Duration::from_secs(3600);
/// Largest memory budget a playbook may ask for.
pub const MAX_MEMORY: usize = 4 << 30;

/// A parameter a plugin declares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParamSpec {
    /// Key in the step's `with`.
    pub name: String,
    /// Must the step give it?
    pub required: bool,
}

/// What the validator learns about a step's plugin reference.
#[derive(Debug, Clone)]
pub enum PluginLookup {
    /// A loadable plugin and the params it declares.
    Found(Vec<ParamSpec>),
    /// No such plugin; the closest known names.
    Missing {
        /// Names close to the one given.
        suggestions: Vec<String>,
        /// Every plugin name known.
        known: Vec<String>,
    },
    /// The plugin exists but cannot be loaded; the reason.
    Broken(String),
}

/// Resolves plugin references; implemented by [`crate::plugins`].
pub trait PluginCatalog {
    /// Look up a step's `plugin` value.
    fn lookup(&self, reference: &str) -> PluginLookup;
}

/// Check `playbook` (parsed from `source`, called `name` in messages).
pub fn validate(
    name: &str,
    source: &str,
    playbook: &Playbook,
    catalog: &dyn PluginCatalog,
) -> Result<(), PlaybookError> {
    let mut problems = Vec::new();
    let steps: HashMap<&str, &Step> = check_ids(source, playbook, &mut problems);
    for step in &playbook.steps {
        check_plugin(source, step, catalog, &mut problems);
        check_references(step, &steps, &mut problems);
        check_budgets(step, &mut problems);
        check_inputs(source, playbook, step, &mut problems);
        check_grants(step, &mut problems);
        check_remediation(step, &mut problems);
    }
    check_cycles(playbook, &steps, &mut problems);
    if problems.is_empty() {
        return Ok(());
    }
    problems.sort_by_key(|p| p.span().offset());
    Err(PlaybookError::new(
        NamedSource::new(name, source.to_owned()),
        problems,
    ))
}

fn check_ids<'a>(
    source: &str,
    playbook: &'a Playbook,
    problems: &mut Vec<Problem>,
) -> HashMap<&'a str, &'a Step> {
    let mut steps: HashMap<&str, &Step> = HashMap::new();
    if playbook.steps.is_empty() {
        problems.push(Problem::new(
            "the playbook has no steps",
            SourceSpan::from((0, 0)),
            "here",
        ));
    }
    for step in &playbook.steps {
        let id = step.id.value.as_str();
        if id.is_empty()
            || !id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_".contains(c))
        {
            problems.push(
                Problem::new(
                    format!("invalid step id `{id}`"),
                    step.id.source_span(),
                    "this id",
                )
                .help("step ids use letters, digits, `-` and `_`"),
            );
        }
        if let Some(first) = steps.insert(id, step) {
            problems.push(
                Problem::new(
                    format!("duplicate step id `{id}`"),
                    step.id.source_span(),
                    "defined again here",
                )
                .help(format!(
                    "the first step with this id is on line {}; give each step its own id",
                    line_of(source, first.id.span.start)
                )),
            );
        }
    }
    steps
}

fn check_plugin(
    source: &str,
    step: &Step,
    catalog: &dyn PluginCatalog,
    problems: &mut Vec<Problem>,
) {
    let params = match catalog.lookup(&step.plugin) {
        PluginLookup::Found(params) => params,
        PluginLookup::Missing { suggestions, known } => {
            let help = match suggestions.first() {
                Some(best) => format!("did you mean `{best}`?"),
                None => format!("known plugins: {}", known.join(", ")),
            };
            problems.push(
                Problem::new(
                    format!("unknown plugin `{}`", step.plugin.value),
                    step.plugin.source_span(),
                    "not a shipped plugin, a --plugin-dir plugin or a .wasm path",
                )
                .help(help),
            );
            return;
        }
        PluginLookup::Broken(why) => {
            problems.push(Problem::new(
                format!("plugin `{}` cannot be loaded: {why}", step.plugin.value),
                step.plugin.source_span(),
                "this plugin",
            ));
            return;
        }
    };
    for (key, value) in &step.with {
        if !params.iter().any(|p| &p.name == key) {
            let declared: Vec<&str> = params.iter().map(|p| p.name.as_str()).collect();
            let mut problem = Problem::new(
                format!("`{}` takes no param `{key}`", step.plugin.value),
                key_span(source, key, value),
                "unknown param",
            );
            problem = match closest(key, declared.iter().copied()) {
                Some(best) => problem.help(format!("did you mean `{best}`?")),
                None => problem.help(format!("its params: {}", declared.join(", "))),
            };
            problems.push(problem);
        }
    }
    for param in params.iter().filter(|p| p.required) {
        if !step.with.contains_key(&param.name) {
            problems.push(
                Problem::new(
                    format!(
                        "step `{}` does not give `{}` its required param `{}`",
                        step.id.value, step.plugin.value, param.name
                    ),
                    step.plugin.source_span(),
                    "this plugin",
                )
                .help(format!(
                    "add `with: {{ \"{}\": ... }}` to the step",
                    param.name
                )),
            );
        }
    }
}

fn check_references(step: &Step, steps: &HashMap<&str, &Step>, problems: &mut Vec<Problem>) {
    for need in &step.needs {
        if need.value == step.id.value {
            problems.push(Problem::new(
                format!("step `{}` needs itself", step.id.value),
                need.source_span(),
                "remove this",
            ));
        } else if !steps.contains_key(need.value.as_str()) {
            problems.push(unknown_step(&need.value, need.source_span(), steps));
        }
    }
    if let Some(when) = &step.when {
        for target in when.value.steps() {
            if target == step.id.value {
                problems.push(Problem::new(
                    format!("step `{}` has a `when` on itself", step.id.value),
                    when.source_span(),
                    "this condition",
                ));
            } else if !steps.contains_key(target) {
                problems.push(unknown_step(target, when.source_span(), steps));
            }
        }
    }
    // Remediations run after every check, on the checks' diagnosis: a check waiting for a
    // remediation would wait for ever.
    if !step.remediation {
        for (target, span) in dependencies(step) {
            if steps.get(target).is_some_and(|t| t.remediation) {
                problems.push(
                    Problem::new(
                        format!(
                            "step `{}` waits for `{target}`, a remediation; remediations run \
                             after every check",
                            step.id.value
                        ),
                        span,
                        "this dependency",
                    )
                    .help("a check cannot depend on a remediation; remove this dependency"),
                );
            }
        }
    }
}

/// A remediation names the cause it fixes; only remediations do.
fn check_remediation(step: &Step, problems: &mut Vec<Problem>) {
    match (&step.fixes, step.remediation) {
        (None, true) => problems.push(
            Problem::new(
                format!(
                    "remediation step `{}` does not say which cause it fixes",
                    step.id.value
                ),
                step.id.source_span(),
                "this remediation",
            )
            .help(
                "add the cause key it fixes, e.g. `fixes: \"broker.down\"`: it then runs only \
                 when the checks establish that cause and rank it first",
            ),
        ),
        (Some(fixes), false) => problems.push(
            Problem::new(
                format!(
                    "step `{}` says what it fixes but is not a remediation",
                    step.id.value
                ),
                fixes.source_span(),
                "this `fixes`",
            )
            .help("add `remediation: true`, or remove `fixes`"),
        ),
        _ => {}
    }
    if !step.remediation && !step.even_below.is_empty() {
        problems.push(
            Problem::new(
                format!(
                    "step `{}` has `even_below` but is not a remediation",
                    step.id.value
                ),
                step.even_below[0].source_span(),
                "this cause",
            )
            .help("`even_below` belongs with `fixes` on a remediation step"),
        );
    }
    for cause in step.fixes.iter().chain(&step.even_below) {
        if !is_cause_key(&cause.value) {
            problems.push(
                Problem::new(
                    format!("`{}` is not a cause key", cause.value),
                    cause.source_span(),
                    "this cause",
                )
                .help(
                    "cause keys are lower-case words joined by `.` and `-`, such as \
                     \"broker.down\" or \"isr.below-min\"",
                ),
            );
        }
    }
}

/// `broker.down`, `isr.below-min`, `team.my_cause`: what the cause catalog's keys look like.
fn is_cause_key(key: &str) -> bool {
    !key.is_empty()
        && key.split('.').all(|part| {
            !part.is_empty()
                && part
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "-_".contains(c))
        })
}

fn unknown_step(name: &str, span: SourceSpan, steps: &HashMap<&str, &Step>) -> Problem {
    let problem = Problem::new(
        format!("unknown step `{name}`"),
        span,
        "no step has this id",
    );
    match closest(name, steps.keys().copied()) {
        Some(best) => problem.help(format!("did you mean `{best}`?")),
        None => problem,
    }
}

fn check_budgets(step: &Step, problems: &mut Vec<Problem>) {
    if let Some(timeout) = &step.timeout
        && let Err(why) = parse_timeout(&timeout.value)
    {
        problems.push(
            Problem::new(
                format!("invalid timeout `{}`: {why}", timeout.value),
                timeout.source_span(),
                "this duration",
            )
            .help("write a duration such as \"500ms\", \"10s\" or \"2m\""),
        );
    }
    if let Some(memory) = &step.memory
        && let Err(why) = parse_memory(&memory.value)
    {
        problems.push(
            Problem::new(
                format!("invalid memory budget `{}`: {why}", memory.value),
                memory.source_span(),
                "this size",
            )
            .help("write a size such as \"64MiB\" or \"1GiB\""),
        );
    }
}

/// Every `{{input}}` in params and grants must name a declared input.
fn check_inputs(source: &str, playbook: &Playbook, step: &Step, problems: &mut Vec<Problem>) {
    let mut report = |text: &str, span: &std::ops::Range<usize>, what: &str| {
        for placeholder in placeholders(text) {
            if playbook.inputs.contains_key(placeholder.name) {
                continue;
            }
            let needle = format!("{{{{{}", placeholder.name);
            let narrowed = source
                .get(span.clone())
                .and_then(|s| s.find(&needle))
                .map(|at| SourceSpan::from((span.start + at, placeholder.range.len())))
                .unwrap_or_else(|| (span.start, span.len()).into());
            let mut problem = Problem::new(
                format!("{what} uses undefined input `{}`", placeholder.name),
                narrowed,
                "not declared in `inputs`",
            );
            problem = match closest(placeholder.name, playbook.inputs.keys().map(String::as_str)) {
                Some(best) => problem.help(format!("did you mean `{{{{{best}}}}}`?")),
                None => problem.help(format!(
                    "declare it: inputs: {{ \"{}\": Input(help: \"...\") }}",
                    placeholder.name
                )),
            };
            problems.push(problem);
        }
    };
    for value in step.with.values() {
        for text in strings_in(&value.value) {
            report(&text, &value.span, "a param");
        }
    }
    for entry in step
        .allow
        .net
        .iter()
        .chain(&step.allow.files)
        .chain(&step.allow.http)
    {
        report(&entry.value, &entry.span, "a grant");
    }
    if let Some(crate::caps::KafkaAccess::Produce(topics)) = &step.allow.kafka {
        // Topic names carry no span of their own; point at the step's plugin.
        for topic in topics {
            report(topic, &step.plugin.span, "a produce grant");
        }
    }
}

/// Grants without placeholders can be checked now; the rest after substitution.
fn check_grants(step: &Step, problems: &mut Vec<Problem>) {
    for entry in &step.allow.net {
        if placeholders(&entry.value).is_empty()
            && let Err(error) = NetRule::parse(&entry.value)
        {
            problems.push(
                Problem::new(error.to_string(), entry.source_span(), "this grant")
                    .help("write host:port, host:first-last or [ipv6]:port"),
            );
        }
    }
    // Changing things is for remediation steps only, so that `--apply` governs all of it.
    let changes =
        !step.allow.exec.is_empty() || step.allow.kafka == Some(crate::caps::KafkaAccess::Admin);
    if changes && !step.remediation {
        let span = step
            .allow
            .exec
            .first()
            .map_or(step.id.source_span(), |e| e.source_span());
        problems.push(
            Problem::new(
                format!("step `{}` may change things (exec or kafka: Admin) but is not a remediation", step.id.value),
                span,
                "this grant",
            )
            .help("add `remediation: true` to the step: it then runs as a dry run unless `triage run --apply`"),
        );
    }
    for entry in &step.allow.http {
        if placeholders(&entry.value).is_empty()
            && let Err(why) = crate::http_url::HttpUrl::parse_grant(&entry.value)
        {
            problems.push(
                Problem::new(
                    format!("invalid http grant: {why}"),
                    entry.source_span(),
                    "this grant",
                )
                .help("write a URL such as \"http://broker-1:7071/metrics\": it grants that path and what lies below it"),
            );
        }
    }
    for entry in &step.allow.files {
        if entry.value.trim().is_empty() {
            problems.push(Problem::new(
                "empty file grant",
                entry.source_span(),
                "this grant",
            ));
        }
    }
}

/// `needs` and `when` must form a DAG. Each cycle is reported once, at the edge closing it.
fn check_cycles(playbook: &Playbook, steps: &HashMap<&str, &Step>, problems: &mut Vec<Problem>) {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        Visiting,
        Done,
    }
    fn visit<'a>(
        id: &'a str,
        steps: &HashMap<&'a str, &'a Step>,
        marks: &mut HashMap<&'a str, Mark>,
        path: &mut Vec<&'a str>,
        problems: &mut Vec<Problem>,
    ) {
        marks.insert(id, Mark::Visiting);
        path.push(id);
        let step = steps[id];
        for (target, span) in dependencies(step) {
            match marks.get(target) {
                Some(Mark::Visiting) => {
                    let start = path.iter().position(|p| *p == target).unwrap_or(0);
                    let mut cycle: Vec<&str> = path[start..].to_vec();
                    cycle.push(target);
                    problems.push(
                        Problem::new(
                            format!("dependency cycle: {}", cycle.join(" → ")),
                            span,
                            "this dependency closes the cycle",
                        )
                        .help("a step cannot (indirectly) wait for itself; remove one of these `needs`"),
                    );
                }
                Some(Mark::Done) => {}
                None if steps.contains_key(target) => visit(target, steps, marks, path, problems),
                None => {}
            }
        }
        path.pop();
        marks.insert(id, Mark::Done);
    }
    let mut marks = HashMap::new();
    for step in &playbook.steps {
        if !marks.contains_key(step.id.value.as_str()) {
            visit(&step.id.value, steps, &mut marks, &mut Vec::new(), problems);
        }
    }
}

/// The steps `step` waits for: its `needs`, and the step its `when` tests.
pub fn dependencies(step: &Step) -> Vec<(&str, SourceSpan)> {
    let mut deps: Vec<(&str, SourceSpan)> = step
        .needs
        .iter()
        .filter(|n| n.value != step.id.value)
        .map(|n| (n.value.as_str(), n.source_span()))
        .collect();
    if let Some(when) = &step.when {
        for target in when.value.steps() {
            if target != step.id.value {
                deps.push((target, when.source_span()));
            }
        }
    }
    let mut seen = BTreeSet::new();
    deps.retain(|(id, _)| seen.insert(*id));
    deps
}

/// Parse a step timeout: a positive duration up to [`MAX_TIMEOUT`].
pub fn parse_timeout(text: &str) -> Result<Duration, String> {
    let duration = humantime::parse_duration(text).map_err(|e| e.to_string())?;
    if duration.is_zero() {
        return Err("a timeout must be positive".into());
    }
    if duration > MAX_TIMEOUT {
        return Err(format!(
            "longer than the maximum of {}",
            humantime::format_duration(MAX_TIMEOUT)
        ));
    }
    Ok(duration)
}

/// Parse a memory budget such as `64MiB`, `1GiB` or `512KiB`.
pub fn parse_memory(text: &str) -> Result<usize, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: usize = number
        .parse()
        .map_err(|_| "expected a number followed by a unit".to_owned())?;
    let scale = match unit.trim() {
        "KiB" => 1 << 10,
        "MiB" => 1 << 20,
        "GiB" => 1 << 30,
        other => return Err(format!("unknown unit `{other}` (use KiB, MiB or GiB)")),
    };
    let bytes = number.checked_mul(scale).ok_or("too large")?;
    if !((1 << 20)..=MAX_MEMORY).contains(&bytes) {
        return Err("must be between 1MiB and 4GiB".into());
    }
    Ok(bytes)
}

/// Every string inside a RON value (map keys excluded).
fn strings_in(value: &ron::Value) -> Vec<String> {
    match value {
        ron::Value::String(s) => vec![s.clone()],
        ron::Value::Seq(items) => items.iter().flat_map(strings_in).collect(),
        ron::Value::Map(map) => map.iter().flat_map(|(_, v)| strings_in(v)).collect(),
        ron::Value::Option(Some(inner)) => strings_in(inner),
        _ => Vec::new(),
    }
}

/// The span of `"key"` in a `with` map: the last occurrence of the quoted key before its
/// value. Falls back to the value's span.
fn key_span<T>(source: &str, key: &str, value: &Spanned<T>) -> SourceSpan {
    let quoted = format!("\"{key}\"");
    source
        .get(..value.span.start)
        .and_then(|before| before.rfind(&quoted))
        .map(|at| SourceSpan::from((at, quoted.len())))
        .unwrap_or_else(|| value.source_span())
}

/// The closest candidate, if it is close enough to be a typo (a small edit distance) or a
/// shortening (`timeout` for `timeout_ms`).
pub fn closest<'a>(name: &str, candidates: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    candidates
        .map(|c| (strsim::damerau_levenshtein(name, c), c))
        .filter(|(distance, c)| {
            *distance <= 2.max(c.len() / 4)
                || (name.len() >= 3 && (c.starts_with(name) || name.starts_with(c)))
        })
        .min()
        .map(|(_, c)| c)
}

/// 1-based line number of a byte offset.
fn line_of(source: &str, offset: usize) -> usize {
    source[..offset.min(source.len())].matches('\n').count() + 1
}

/// Every placeholder name used in a step, for planning.
pub fn inputs_used(step: &Step) -> BTreeSet<String> {
    let mut used = BTreeSet::new();
    for value in step.with.values() {
        for text in strings_in(&value.value) {
            used.extend(placeholders(&text).into_iter().map(|p| p.name.to_owned()));
        }
    }
    for entry in step
        .allow
        .net
        .iter()
        .chain(&step.allow.files)
        .chain(&step.allow.http)
    {
        used.extend(
            placeholders(&entry.value)
                .into_iter()
                .map(|p| p.name.to_owned()),
        );
    }
    used
}

/// Input names declared by the playbook with their help, for error messages.
pub fn describe_inputs(playbook: &Playbook) -> BTreeMap<&str, &str> {
    playbook
        .inputs
        .iter()
        .map(|(k, v)| (k.as_str(), v.help.as_str()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_and_sizes() {
        assert_eq!(
            parse_timeout("1500ms").unwrap(),
            Duration::from_millis(1500)
        );
        assert!(parse_timeout("0s").is_err());
        assert!(parse_timeout("2h").is_err());
        assert!(parse_timeout("ten").is_err());
        assert_eq!(parse_memory("64MiB").unwrap(), 64 << 20);
        assert!(parse_memory("64MB").is_err());
        assert!(parse_memory("8GiB").is_err());
    }

    #[test]
    fn cause_keys() {
        for key in ["broker.down", "isr.below-min", "team.my_cause2"] {
            assert!(is_cause_key(key), "{key}");
        }
        for key in ["", "Broker.down", "broker..down", "broker down", ".x"] {
            assert!(!is_cause_key(key), "{key}");
        }
    }

    #[test]
    fn closest_suggests_only_near_names() {
        let names = ["net-probe", "log-grep"];
        assert_eq!(closest("net-prob", names.into_iter()), Some("net-probe"));
        assert_eq!(closest("zookeeper", names.into_iter()), None);
        assert_eq!(
            closest("timeout", ["servers", "timeout_ms"].into_iter()),
            Some("timeout_ms")
        );
    }
}
