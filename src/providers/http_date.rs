//! HTTP-dates (RFC 9110 §5.6.7), as directories send them in `Date` and `Retry-After`: the
//! IMF-fixdate every sender must use, and the two obsolete formats a recipient must still
//! accept (rfc850-date, asctime-date). All three are in GMT.

use jiff::Timestamp;
use jiff::civil::DateTime;
use jiff::fmt::rfc2822;
use jiff::fmt::strtime;
use jiff::tz::TimeZone;

/// `Sun, 06 Nov 1994 08:49:37 GMT`, `Sunday, 06-Nov-94 08:49:37 GMT` or
/// `Sun Nov  6 08:49:37 1994`; `None` for anything else.
pub fn parse(text: &str) -> Option<Timestamp> {
    let text = text.trim();
    if let Ok(fixdate) = rfc2822::DateTimeParser::new().parse_timestamp(text) {
        return Some(fixdate);
    }
    // rfc850-date's two-digit year is read as 1969–2068, close enough to RFC 9110's "no more
    // than 50 years ahead" for a date that is a few seconds from now.
    let civil = ["%A, %d-%b-%y %H:%M:%S GMT", "%a %b %e %H:%M:%S %Y"]
        .iter()
        .find_map(|format| strtime::parse(format, text).ok()?.to_datetime().ok())?;
    gmt(civil)
}

fn gmt(civil: DateTime) -> Option<Timestamp> {
    TimeZone::UTC.to_timestamp(civil).ok()
}
