//! Git timestamps (seconds since the epoch, and the author's offset in minutes) as RFC 3339
//! text and back; the calendar arithmetic is the `time` crate's.

use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time};

/// A git timestamp: when, and the offset from UTC it was recorded in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct GitTime {
    pub seconds: i64,
    pub offset_minutes: i32,
}

impl GitTime {
    pub fn of(t: git2::Time) -> GitTime {
        GitTime {
            seconds: t.seconds(),
            offset_minutes: t.offset_minutes(),
        }
    }

    /// RFC 3339 in its own offset: `2024-05-01T12:00:00+02:00` (see [`rfc3339`]).
    pub fn rfc3339(&self) -> String {
        rfc3339(self.seconds, self.offset_minutes)
    }

    /// The local calendar date, `YYYY-MM-DD`.
    pub fn date(&self) -> String {
        let mut s = self.rfc3339();
        if let Some(t) = s.find('T') {
            s.truncate(t);
        }
        s
    }
}

/// Formats a git timestamp as RFC 3339 in its own offset (`2024-05-01T12:00:00+02:00`). The
/// offset is written as recorded, whatever its size (git does not bound it). A time outside
/// the years -999,999 to 999,999 (only a corrupt commit has one) is written in git's raw form,
/// `@SECONDS +HHMM`.
pub fn rfc3339(seconds: i64, offset_minutes: i32) -> String {
    let sign = if offset_minutes < 0 { '-' } else { '+' };
    let off = offset_minutes.unsigned_abs();
    let local = i64::from(offset_minutes)
        .checked_mul(60)
        .and_then(|o| seconds.checked_add(o))
        .and_then(|l| OffsetDateTime::from_unix_timestamp(l).ok());
    let Some(local) = local else {
        return format!("@{seconds} {sign}{:02}{:02}", off / 60, off % 60);
    };
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}{sign}{:02}:{:02}",
        local.year(),
        u8::from(local.month()),
        local.day(),
        local.hour(),
        local.minute(),
        local.second(),
        off / 60,
        off % 60
    )
}

/// Seconds since the Unix epoch of an RFC 3339 date (`2024-05-01T12:00:00+02:00`; `Z`, a
/// lower-case `t` or a space, and fractional seconds, which are ignored, are accepted), or
/// `None` when it is not one (including impossible dates such as February 30th). What follows
/// the offset is not looked at.
pub fn parse_rfc3339(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') {
        return None;
    }
    let num = |r: std::ops::Range<usize>| s.get(r)?.parse::<i64>().ok();
    let small = |r: std::ops::Range<usize>| u8::try_from(num(r)?).ok();
    let year = i32::try_from(num(0..4)?).ok()?;
    let month = Month::try_from(small(5..7)?).ok()?;
    let date = Date::from_calendar_date(year, month, small(8..10)?).ok()?;
    let time = Time::from_hms(small(11..13)?, small(14..16)?, small(17..19)?).ok()?;
    let mut rest = &s[19..];
    if let Some(frac) = rest.strip_prefix('.') {
        rest = frac.trim_start_matches(|c: char| c.is_ascii_digit());
    }
    let offset = match rest.as_bytes().first()? {
        b'Z' | b'z' => 0,
        sign @ (b'+' | b'-') => {
            let oh = rest.get(1..3)?.parse::<i64>().ok()?;
            let om = rest.get(4..6)?.parse::<i64>().ok()?;
            let o = oh * 3600 + om * 60;
            if *sign == b'-' {
                -o
            } else {
                o
            }
        }
        _ => return None,
    };
    Some(
        PrimitiveDateTime::new(date, time)
            .assume_utc()
            .unix_timestamp()
            - offset,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_in_the_recorded_offset() {
        assert_eq!(rfc3339(0, 0), "1970-01-01T00:00:00+00:00");
        assert_eq!(rfc3339(1_700_000_000, 120), "2023-11-15T00:13:20+02:00");
        assert_eq!(rfc3339(951_782_400, -300), "2000-02-28T19:00:00-05:00");
        // Leap day, and before the epoch.
        assert_eq!(rfc3339(951_782_400, 0), "2000-02-29T00:00:00+00:00");
        assert_eq!(rfc3339(-1, 0), "1969-12-31T23:59:59+00:00");
        // An offset beyond what a real zone has is written as recorded.
        assert_eq!(rfc3339(0, 100 * 60 + 7), "1970-01-05T04:07:00+100:07");
        assert_eq!(rfc3339(i64::MAX, 60), format!("@{} +0100", i64::MAX));
        let t = GitTime {
            seconds: 1_700_000_000,
            offset_minutes: -60,
        };
        assert_eq!(t.rfc3339(), "2023-11-14T21:13:20-01:00");
        assert_eq!(t.date(), "2023-11-14");
    }

    #[test]
    fn parses_back() {
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_rfc3339("1970-01-01T02:00:00+02:00"), Some(0));
        assert_eq!(parse_rfc3339("1970-01-01 00:00:01.250z"), Some(1));
        assert_eq!(parse_rfc3339("2000-03-01T00:00:00Z"), Some(951_868_800));
        assert_eq!(parse_rfc3339("yesterday"), None);
        assert_eq!(parse_rfc3339("2000-02-30T00:00:00Z"), None);
        assert_eq!(parse_rfc3339("2000-01-01T00:00:00+0100"), None);
        assert_eq!(parse_rfc3339("2000-13-01T00:00:00Z"), None);
        assert_eq!(parse_rfc3339("2000-01-01T24:00:00Z"), None);
    }

    #[test]
    fn round_trips() {
        // A fixed sequence of instants and offsets (deterministic; no seed to report).
        let mut x: u64 = 42;
        for _ in 0..2000 {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let secs = (x >> 33) as i64 - (1 << 30);
            let off = ((x >> 8) % (2 * 14 * 60 + 1)) as i32 - 14 * 60;
            let text = rfc3339(secs, off);
            assert_eq!(parse_rfc3339(&text), Some(secs), "{secs} {off} {text}");
        }
    }
}
