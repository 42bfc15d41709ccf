//! `${NAME}` references in secret values, so credentials can stay out of the config file:
//! `password: "${SMTP_PASSWORD}"`, `webhook_url: "https://hooks.slack.com/services/${SLACK_PATH}"`.
//! `$${` writes a literal `${`; any other `$` is kept as it is.

/// A problem in a value, starting at the 0-based character `index` of the value.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct EnvProblem {
    pub index: usize,
    pub message: String,
}

/// The value with every reference replaced, or every problem with it: a variable that is not
/// set, or a `${` that does not form `${NAME}` (`NAME`: letters, digits and `_`, not starting
/// with a digit). Messages name variables, never their values.
pub(super) fn expand(raw: &str, env: &dyn Fn(&str) -> Option<String>) -> Result<String, Vec<EnvProblem>> {
    let chars: Vec<char> = raw.chars().collect();
    let mut out = String::with_capacity(raw.len());
    let mut problems = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '$' && chars.get(i + 1) == Some(&'$') && chars.get(i + 2) == Some(&'{') {
            out.push_str("${");
            i += 3;
            continue;
        }
        if c != '$' || chars.get(i + 1) != Some(&'{') {
            out.push(c);
            i += 1;
            continue;
        }
        let close = chars[i + 2..].iter().position(|c| *c == '}').map(|p| i + 2 + p);
        let name: Option<String> = close.map(|end| chars[i + 2..end].iter().collect());
        let valid = name.as_deref().is_some_and(|n| {
            n.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                && n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        });
        match (close, name) {
            (Some(end), Some(name)) if valid => {
                match env(&name) {
                    Some(value) => out.push_str(&value),
                    None => problems.push(EnvProblem {
                        index: i,
                        message: format!("environment variable `{name}` is not set"),
                    }),
                }
                i = end + 1;
            }
            _ => {
                problems.push(EnvProblem {
                    index: i,
                    message:
                        "`${` must start an environment reference like ${NAME} (write $${ for a literal ${)"
                            .to_owned(),
                });
                i += 2;
            }
        }
    }
    if problems.is_empty() { Ok(out) } else { Err(problems) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Option<String> {
        match name {
            "TOKEN" => Some("t0k".into()),
            "EMPTY" => Some(String::new()),
            _ => None,
        }
    }

    #[test]
    fn references_are_replaced_and_problems_located() {
        assert_eq!(expand("plain $ value", &env), Ok("plain $ value".into()));
        assert_eq!(expand("${TOKEN}", &env), Ok("t0k".into()));
        assert_eq!(expand("a/${TOKEN}/b${EMPTY}", &env), Ok("a/t0k/b".into()));
        assert_eq!(expand("$${TOKEN} $$ x", &env), Ok("${TOKEN} $$ x".into()));
        let problems = expand("é${NOPE}x${TOKEN}${1A}${open", &env).unwrap_err();
        let found: Vec<(usize, &str)> = problems.iter().map(|p| (p.index, p.message.as_str())).collect();
        assert_eq!(found[0], (1, "environment variable `NOPE` is not set"));
        assert_eq!((found[1].0, found[2].0), (17, 22));
        assert!(found[1].1.starts_with("`${` must start an environment reference"), "{}", found[1].1);
    }
}
