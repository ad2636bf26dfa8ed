//! Times for people, relative to a given "now" (an input, so screens are
//! deterministic): "14:02" today, "Tue" this week, "3 Feb" this year, else "3 Feb 2025".

use std::fmt::Display;

use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, TimeZone, Utc};

/// A short time label for lists and one-shot output, in the zone `tz` (a `FixedOffset`
/// for the screen, `chrono::Local` or `Utc` for commands): the clock time for today,
/// the weekday within the last week, else the date. A time on a later day than `now`
/// (a clock ahead of ours) shows its date, never a clock time that would read as today.
pub fn relative<Tz: TimeZone>(at: DateTime<Utc>, now: DateTime<Utc>, tz: &Tz) -> String
where
    Tz::Offset: Display,
{
    let at = at.with_timezone(tz);
    let now = now.with_timezone(tz);
    let days = (now.date_naive() - at.date_naive()).num_days();
    if days == 0 {
        at.format("%H:%M").to_string()
    } else if (1..7).contains(&days) {
        at.format("%a").to_string()
    } else if at.year() == now.year() {
        at.format("%-d %b").to_string()
    } else {
        at.format("%-d %b %Y").to_string()
    }
}

/// Clock time only ("14:02"), in the local zone.
pub fn clock(at: DateTime<Utc>, tz: FixedOffset) -> String {
    at.with_timezone(&tz).format("%H:%M").to_string()
}

/// The local date of `at`.
pub fn local_date(at: DateTime<Utc>, tz: FixedOffset) -> NaiveDate {
    at.with_timezone(&tz).date_naive()
}

/// A day separator label: "Today", "Yesterday", "Tue 3 Feb", "Tue 3 Feb 2025".
pub fn day_label(day: NaiveDate, now: DateTime<Utc>, tz: FixedOffset) -> String {
    let today = local_date(now, tz);
    match (today - day).num_days() {
        0 => "Today".to_owned(),
        1 => "Yesterday".to_owned(),
        _ if day.year() == today.year() => format!("{} {} {}", day.format("%a"), day.day(), day.format("%b")),
        _ => format!("{} {} {} {}", day.format("%a"), day.day(), day.format("%b"), day.year()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).unwrap()
    }

    #[test]
    fn labels() {
        let utc = FixedOffset::east_opt(0).unwrap();
        let now = t(2026, 2, 5, 16, 30); // a Thursday
        assert_eq!(relative(t(2026, 2, 5, 14, 2), now, &utc), "14:02");
        assert_eq!(relative(t(2026, 2, 3, 9, 0), now, &utc), "Tue");
        assert_eq!(relative(t(2026, 1, 3, 9, 0), now, &utc), "3 Jan");
        assert_eq!(relative(t(2025, 12, 3, 9, 0), now, &utc), "3 Dec 2025");
        assert_eq!(day_label(local_date(t(2026, 2, 4, 9, 0), utc), now, utc), "Yesterday");
        assert_eq!(day_label(local_date(t(2026, 2, 2, 9, 0), utc), now, utc), "Mon 2 Feb");
    }

    #[test]
    fn zone_moves_the_day() {
        let plus2 = FixedOffset::east_opt(2 * 3600).unwrap();
        let now = t(2026, 2, 5, 23, 30); // 01:30 on the 6th at +2
        assert_eq!(relative(t(2026, 2, 5, 22, 0), now, &plus2), "00:00");
        assert_eq!(relative(t(2026, 2, 5, 21, 0), now, &plus2), "Thu");
    }

    /// A time ahead of `now` (the other clock is fast): later today is its clock time,
    /// a later day its date, in any zone type the callers use.
    #[test]
    fn future_times_read_as_what_they_are() {
        let utc = FixedOffset::east_opt(0).unwrap();
        let now = t(2026, 2, 5, 16, 30);
        assert_eq!(relative(t(2026, 2, 5, 18, 0), now, &utc), "18:00");
        assert_eq!(relative(t(2026, 2, 6, 9, 0), now, &utc), "6 Feb");
        assert_eq!(relative(t(2027, 1, 2, 9, 0), now, &utc), "2 Jan 2027");
        assert_eq!(relative(t(2026, 2, 6, 9, 0), now, &Utc), "6 Feb");
    }
}
