//! Cycle intervals written like Go/Kubernetes durations: `30s`, `5m`, `1h30m`, `1500ms`.

use std::time::Duration;

/// The shortest interval allowed, so that a typo cannot hammer a directory.
pub const MINIMUM: Duration = Duration::from_secs(10);

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum IntervalError {
    #[error("interval '{0}' is not a duration like 30s, 5m or 1h30m")]
    Malformed(String),
    #[error("interval '{0}' is shorter than the minimum of 10s")]
    TooShort(String),
    #[error("duration '{0}' is zero")]
    Zero(String),
}

/// A cycle interval: a duration of at least `MINIMUM`.
pub fn parse(text: &str) -> Result<Duration, IntervalError> {
    let total = duration(text)?;
    if total < MINIMUM {
        return Err(IntervalError::TooShort(text.to_owned()));
    }
    Ok(total)
}

/// Any positive duration in the same syntax (the operator's own flags, e.g. `--stall-after 5s`).
pub fn duration(text: &str) -> Result<Duration, IntervalError> {
    let malformed = || IntervalError::Malformed(text.to_owned());
    let mut rest = text.trim();
    if rest.is_empty() {
        return Err(malformed());
    }
    let mut total = Duration::ZERO;
    while !rest.is_empty() {
        let digits = rest.find(|c: char| !c.is_ascii_digit()).ok_or_else(malformed)?;
        if digits == 0 {
            return Err(malformed());
        }
        let value: u64 = rest[..digits].parse().map_err(|_| malformed())?;
        rest = &rest[digits..];
        let unit_len = rest.find(|c: char| c.is_ascii_digit()).unwrap_or(rest.len());
        let unit = match &rest[..unit_len] {
            "ms" => Duration::from_millis(1),
            "s" => Duration::from_secs(1),
            "m" => Duration::from_secs(60),
            "h" => Duration::from_secs(3600),
            _ => return Err(malformed()),
        };
        let part = unit
            .checked_mul(u32::try_from(value).map_err(|_| malformed())?)
            .ok_or_else(malformed)?;
        total = total.checked_add(part).ok_or_else(malformed)?;
        rest = &rest[unit_len..];
    }
    if total.is_zero() {
        return Err(IntervalError::Zero(text.to_owned()));
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_compound_durations() {
        assert_eq!(parse("40m"), Ok(Duration::from_secs(2400)));
        assert_eq!(parse("1h30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse("10s"), Ok(Duration::from_secs(10)));
        assert_eq!(parse("10500ms"), Ok(Duration::from_millis(10500)));
    }

    #[test]
    fn rejects_garbage_and_too_short() {
        for bad in ["", "5", "m", "5x", "1.5h", "-5m", "5 m"] {
            assert!(matches!(parse(bad), Err(IntervalError::Malformed(_))), "{bad}");
        }
        assert_eq!(parse("9s"), Err(IntervalError::TooShort("9s".into())));
    }

    #[test]
    fn a_flag_duration_may_be_short_but_not_zero() {
        assert_eq!(duration("3s"), Ok(Duration::from_secs(3)));
        assert_eq!(duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(duration("0s"), Err(IntervalError::Zero("0s".into())));
        assert!(matches!(duration("5"), Err(IntervalError::Malformed(_))));
    }
}
