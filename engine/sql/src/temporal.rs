//! TIMESTAMP (epoch milliseconds), DATE (epoch days) and TIME (milliseconds of the day):
//! civil-date arithmetic (Howard Hinnant's algorithms), ksqlDB's ISO text forms
//! (`SqlTimeTypes`: `2021-01-01T00:00:00.000`, `2021-01-01`, `12:30:00`), and a small
//! `java.time.format.DateTimeFormatter` for the pattern letters ksqlDB users write
//! (`yyyy yy MM MMM MMMM dd d HH H hh h a mm ss S..SSSSSSSSS X XX XXX Z EEE EEEE 'literal'`).
//! Time zones: `UTC`, `GMT`, `Z` and fixed offsets (`+05:30`, `-0800`, `UTC+2`, `GMT-03:00`)
//! only; a region id like `America/New_York` is refused, as there is no zone database.
//! No I/O.

pub const MS_PER_DAY: i64 = 86_400_000;

/// The largest year a TIMESTAMP text may name (epoch milliseconds of year ±292,277,026 end
/// near `i64`'s range; Java's `Year` stops at ±999,999,999).
const MAX_YEAR: i64 = 292_000_000;

/// Days since 1970-01-01 of a proleptic Gregorian date.
pub fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The (year, month, day) of a day number.
pub fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

fn year_text(y: i64) -> String {
    if y > 9999 {
        format!("+{y}")
    } else if y < 0 {
        format!("-{:04}", -y)
    } else {
        format!("{y:04}")
    }
}

/// `2021-01-01` (ISO_LOCAL_DATE).
pub fn format_date(days: i64) -> String {
    let (y, m, d) = civil_from_days(days);
    format!("{}-{m:02}-{d:02}", year_text(y))
}

/// `12:30:00`, or `12:30:00.5` style fractions as ISO_LOCAL_TIME prints them.
pub fn format_time(ms_of_day: i64) -> String {
    let ms = ms_of_day.rem_euclid(MS_PER_DAY);
    let (h, mi, s, f) = (ms / 3_600_000, ms / 60_000 % 60, ms / 1000 % 60, ms % 1000);
    if f == 0 {
        format!("{h:02}:{mi:02}:{s:02}")
    } else {
        format!("{h:02}:{mi:02}:{s:02}.{f:03}")
    }
}

/// `2021-01-01T00:00:00.000` (ksqlDB's `SqlTimeTypes.formatTimestamp`, UTC).
pub fn format_timestamp(ms: i64) -> String {
    let days = ms.div_euclid(MS_PER_DAY);
    let t = ms.rem_euclid(MS_PER_DAY);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}",
        year_text(y),
        t / 3_600_000,
        t / 60_000 % 60,
        t / 1000 % 60,
        t % 1000
    )
}

fn num(t: &str) -> Option<i64> {
    if t.is_empty() || !t.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    t.parse().ok()
}

/// `yyyy-MM-dd` as days.
pub fn parse_date(s: &str) -> Option<i64> {
    let s = s.trim();
    let (neg, body) = match s.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, s),
    };
    let mut p = body.splitn(3, '-');
    let y = num(p.next()?)?;
    let (m, d) = (num(p.next()?)?, num(p.next()?)?);
    let y = if neg { -y } else { y };
    if y.abs() > MAX_YEAR || !(1..=12).contains(&m) || d < 1 || d > days_in_month(y, m) {
        return None;
    }
    Some(days_from_civil(y, m, d))
}

/// `HH:mm[:ss[.SSS]]` as milliseconds of the day.
pub fn parse_time(s: &str) -> Option<i64> {
    let s = s.trim();
    let (hms, frac) = s.split_once('.').unwrap_or((s, ""));
    let mut p = hms.split(':');
    let h = num(p.next()?)?;
    let mi = num(p.next()?)?;
    let sec = p.next().map_or(Some(0), num)?;
    if p.next().is_some() || h > 23 || mi > 59 || sec > 59 {
        return None;
    }
    let ms = if frac.is_empty() {
        0
    } else {
        if !frac.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        num(&frac
            .chars()
            .chain("000".chars())
            .take(3)
            .collect::<String>())?
    };
    Some(h * 3_600_000 + mi * 60_000 + sec * 1000 + ms)
}

/// `yyyy-MM-dd['T'HH[:mm[:ss[.SSS]]]][Z|±HH[:]mm]` as epoch milliseconds (UTC by default):
/// the forms ksqlDB accepts for a TIMESTAMP written as a string (`SqlTimeTypes.parseTimestamp`,
/// and a string compared with ROWTIME).
pub fn parse_timestamp(s: &str) -> Option<i64> {
    let s = s.trim();
    let (date, rest) = match s.find('T') {
        Some(i) => (&s[..i], &s[i + 1..]),
        None => (s, ""),
    };
    let mut d = date.splitn(3, '-');
    let (y, m, day) = (
        num(d.next()?)?,
        num(d.next().unwrap_or("1"))?,
        num(d.next().unwrap_or("1"))?,
    );
    if !(1..=12).contains(&m) || day < 1 || day > days_in_month(y, m) {
        return None;
    }
    let (time, offset_ms) = if let Some(t) = rest.strip_suffix('Z') {
        (t, 0)
    } else if let Some(i) = rest.rfind(['+', '-']) {
        let (t, off) = rest.split_at(i);
        (t, parse_offset(off)?)
    } else {
        (rest, 0)
    };
    let (hms, frac) = time.split_once('.').unwrap_or((time, ""));
    let mut parts = hms.split(':');
    let h = parts
        .next()
        .filter(|p| !p.is_empty())
        .map_or(Some(0), num)?;
    let mi = parts.next().map_or(Some(0), num)?;
    let sec = parts.next().map_or(Some(0), num)?;
    if h > 23 || mi > 59 || sec > 59 {
        return None;
    }
    let millis = if frac.is_empty() {
        0
    } else {
        num(&frac
            .chars()
            .chain("000".chars())
            .take(3)
            .collect::<String>())?
    };
    if y.abs() > MAX_YEAR {
        return None;
    }
    (days_from_civil(y, m, day) * MS_PER_DAY)
        .checked_add(h * 3_600_000 + mi * 60_000 + sec * 1_000 + millis - offset_ms)
}

/// `±HH`, `±HHmm`, `±HH:mm` as milliseconds east of UTC.
fn parse_offset(off: &str) -> Option<i64> {
    let sign = match off.as_bytes().first()? {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let digits: String = off[1..].chars().filter(|c| *c != ':').collect();
    let (hh, mm) = match digits.len() {
        1 | 2 => (num(&digits)?, 0),
        4 => (num(&digits[..2])?, num(&digits[2..])?),
        _ => return None,
    };
    if hh > 18 || mm > 59 {
        return None;
    }
    Some(sign * (hh * 3_600_000 + mm * 60_000))
}

/// A time zone id as its fixed offset (ms east of UTC). Err names the unsupported zone.
pub fn zone_offset(zone: &str) -> Result<i64, String> {
    let z = zone.trim();
    let rest = ["UTC", "GMT", "UT"]
        .iter()
        .find_map(|p| z.strip_prefix(p))
        .unwrap_or(z);
    if rest.is_empty() || rest == "Z" {
        return Ok(0);
    }
    parse_offset(rest).ok_or_else(|| {
        format!(
            "Unknown time-zone ID: {zone} (Sluice supports UTC and fixed offsets such as +05:30 only)"
        )
    })
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Lit(String),
    /// A pattern letter and its count.
    Field(char, usize),
}

fn tokenize(pattern: &str) -> Result<Vec<Token>, String> {
    let chars: Vec<char> = pattern.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '\'' {
            let mut lit = String::new();
            i += 1;
            loop {
                match chars.get(i) {
                    None => return Err(format!("Unknown pattern letter: ' in {pattern}")),
                    Some('\'') if chars.get(i + 1) == Some(&'\'') => {
                        lit.push('\'');
                        i += 2;
                    }
                    Some('\'') => {
                        i += 1;
                        break;
                    }
                    Some(x) => {
                        lit.push(*x);
                        i += 1;
                    }
                }
            }
            if lit.is_empty() {
                lit.push('\'');
            }
            out.push(Token::Lit(lit));
        } else if c.is_ascii_alphabetic() {
            let mut n = 1;
            while chars.get(i + n) == Some(&c) {
                n += 1;
            }
            if !"yuMLdHhkKamsSXxZEDn".contains(c) {
                return Err(format!("Unknown pattern letter: {c}"));
            }
            out.push(Token::Field(c, n));
            i += n;
        } else {
            out.push(Token::Lit(c.to_string()));
            i += 1;
        }
    }
    Ok(out)
}

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const DAYS: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];

fn offset_text(off: i64, letter: char, n: usize) -> String {
    if off == 0 && letter == 'X' {
        return "Z".into();
    }
    let sign = if off < 0 { '-' } else { '+' };
    let a = off.abs() / 60_000;
    let (h, m) = (a / 60, a % 60);
    match (letter, n) {
        ('X' | 'x', 1) if m == 0 => format!("{sign}{h:02}"),
        ('X' | 'x', 1 | 2) | ('Z', 1..=3) => format!("{sign}{h:02}{m:02}"),
        ('Z', _) => format!("GMT{sign}{h:02}:{m:02}"),
        _ => format!("{sign}{h:02}:{m:02}"),
    }
}

/// Formats epoch milliseconds with a DateTimeFormatter pattern in the zone `offset_ms`.
pub fn format_pattern(ms: i64, pattern: &str, offset_ms: i64) -> Result<String, String> {
    let local = ms
        .checked_add(offset_ms)
        .ok_or_else(|| format!("{ms} is out of range"))?;
    let days = local.div_euclid(MS_PER_DAY);
    let t = local.rem_euclid(MS_PER_DAY);
    let (y, mo, d) = civil_from_days(days);
    let (h, mi, s, f) = (t / 3_600_000, t / 60_000 % 60, t / 1000 % 60, t % 1000);
    let mut out = String::new();
    for tok in tokenize(pattern)? {
        match tok {
            Token::Lit(l) => out.push_str(&l),
            Token::Field(c, n) => {
                let pad = |v: i64| format!("{v:0n$}");
                let text = match c {
                    'y' | 'u' if n == 2 => format!("{:02}", y.rem_euclid(100)),
                    'y' | 'u' => pad(y),
                    'M' | 'L' if n == 3 => MONTHS[(mo - 1) as usize][..3].to_string(),
                    'M' | 'L' if n >= 4 => MONTHS[(mo - 1) as usize].to_string(),
                    'M' | 'L' => pad(mo),
                    'd' => pad(d),
                    'D' => pad(days - days_from_civil(y, 1, 1) + 1),
                    'H' => pad(h),
                    'k' => pad(if h == 0 { 24 } else { h }),
                    'K' => pad(h % 12),
                    'h' => pad(if h % 12 == 0 { 12 } else { h % 12 }),
                    'a' => (if h < 12 { "AM" } else { "PM" }).to_string(),
                    'm' => pad(mi),
                    's' => pad(s),
                    'S' => {
                        let nanos = format!("{:09}", f * 1_000_000);
                        nanos[..n.min(9)].to_string()
                    }
                    'n' => pad(f * 1_000_000),
                    'E' => {
                        let wd = (days + 3).rem_euclid(7) as usize;
                        if n >= 4 {
                            DAYS[wd].to_string()
                        } else {
                            DAYS[wd][..3].to_string()
                        }
                    }
                    'X' | 'x' | 'Z' => offset_text(offset_ms, c, n),
                    other => return Err(format!("Unknown pattern letter: {other}")),
                };
                out.push_str(&text);
            }
        }
    }
    Ok(out)
}

/// Parses `text` with a DateTimeFormatter pattern as epoch milliseconds; fields the pattern
/// lacks default to 1970-01-01 00:00:00.000, the zone to `offset_ms` unless the text holds
/// one. Err says where the text does not match.
pub fn parse_pattern(text: &str, pattern: &str, offset_ms: i64) -> Result<i64, String> {
    let toks = tokenize(pattern)?;
    let bad = || format!("Text '{text}' could not be parsed with pattern '{pattern}'");
    let b = text.as_bytes();
    let mut i = 0usize;
    let (mut y, mut mo, mut d) = (1970i64, 1i64, 1i64);
    let (mut h, mut mi, mut s, mut ms) = (0i64, 0i64, 0i64, 0i64);
    let mut pm: Option<bool> = None;
    let mut h12 = false;
    let mut zone: Option<i64> = None;
    let digits_at = |i: usize, min: usize, max: usize| -> Option<(i64, usize)> {
        let mut j = i;
        while j < b.len() && j - i < max && b[j].is_ascii_digit() {
            j += 1;
        }
        if j - i < min {
            return None;
        }
        Some((text[i..j].parse().ok()?, j))
    };
    for (k, tok) in toks.iter().enumerate() {
        // A numeric field followed directly by another numeric field is fixed width.
        let adjacent = matches!(toks.get(k + 1),
            Some(Token::Field(c, n)) if !("aEXxZ".contains(*c) || "ML".contains(*c) && *n >= 3));
        match tok {
            Token::Lit(l) => {
                if !text[i..].starts_with(l.as_str()) {
                    return Err(bad());
                }
                i += l.len();
            }
            Token::Field(c, n) => {
                let n = *n;
                let max = if adjacent { n } else { 10 };
                let field = |i: &mut usize, min: usize| -> Result<i64, String> {
                    let (v, j) = digits_at(*i, min, max.max(min)).ok_or_else(bad)?;
                    *i = j;
                    Ok(v)
                };
                match c {
                    'y' | 'u' if n == 2 => y = 2000 + field(&mut i, 2)?,
                    'y' | 'u' => y = field(&mut i, n.min(4))?,
                    'M' | 'L' if n >= 3 => {
                        let found = MONTHS.iter().position(|m| {
                            let name = if n == 3 { &m[..3] } else { m };
                            text[i..]
                                .get(..name.len())
                                .is_some_and(|t| t.eq_ignore_ascii_case(name))
                        });
                        let idx = found.ok_or_else(bad)?;
                        i += if n == 3 { 3 } else { MONTHS[idx].len() };
                        mo = idx as i64 + 1;
                    }
                    'M' | 'L' => mo = field(&mut i, n)?,
                    'd' => d = field(&mut i, n)?,
                    'H' | 'k' => h = field(&mut i, n)? % 24,
                    'h' | 'K' => {
                        h = field(&mut i, n)? % 12;
                        h12 = true;
                    }
                    'a' => {
                        let t = text[i..].get(..2).ok_or_else(bad)?;
                        pm = Some(match t.to_ascii_uppercase().as_str() {
                            "AM" => false,
                            "PM" => true,
                            _ => return Err(bad()),
                        });
                        i += 2;
                    }
                    'm' => mi = field(&mut i, n)?,
                    's' => s = field(&mut i, n)?,
                    'S' => {
                        let start = i;
                        let v = field(&mut i, n)?;
                        let len = i - start;
                        ms = if len >= 3 {
                            v / 10i64.pow(len as u32 - 3)
                        } else {
                            v * 10i64.pow(3 - len as u32)
                        };
                    }
                    'E' => {
                        let found = DAYS.iter().find_map(|dn| {
                            let name = if n >= 4 { dn } else { &dn[..3] };
                            text[i..]
                                .get(..name.len())
                                .filter(|t| t.eq_ignore_ascii_case(name))
                                .map(|_| name.len())
                        });
                        i += found.ok_or_else(bad)?;
                    }
                    'X' | 'x' | 'Z' => {
                        let rest = &text[i..];
                        if (*c == 'X' || *c == 'Z') && rest.starts_with('Z') {
                            zone = Some(0);
                            i += 1;
                        } else {
                            let rest = rest.strip_prefix("GMT").unwrap_or(rest);
                            let skipped = text.len() - i - rest.len();
                            let len = rest
                                .char_indices()
                                .skip(1)
                                .find(|(_, ch)| !(ch.is_ascii_digit() || *ch == ':'))
                                .map_or(rest.len(), |(j, _)| j);
                            zone = Some(parse_offset(&rest[..len]).ok_or_else(bad)?);
                            i += skipped + len;
                        }
                    }
                    _ => return Err(bad()),
                }
            }
        }
    }
    if i != text.len() {
        return Err(bad());
    }
    if h12 && pm == Some(true) {
        h += 12;
    }
    if !(1..=12).contains(&mo) || d < 1 || d > days_in_month(y, mo) || mi > 59 || s > 59 {
        return Err(bad());
    }
    if y.abs() > MAX_YEAR {
        return Err(bad());
    }
    let local =
        days_from_civil(y, mo, d) * MS_PER_DAY + h * 3_600_000 + mi * 60_000 + s * 1000 + ms;
    local.checked_sub(zone.unwrap_or(offset_ms)).ok_or_else(bad)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_forms_are_ksqldbs() {
        assert_eq!(
            format_timestamp(1_552_816_800_000),
            "2019-03-17T10:00:00.000"
        );
        assert_eq!(format_timestamp(-1), "1969-12-31T23:59:59.999");
        assert_eq!(format_date(18_628), "2021-01-01");
        assert_eq!(format_time(45_000_000), "12:30:00");
        assert_eq!(format_time(45_000_001), "12:30:00.001");
        assert_eq!(parse_date("2021-01-01"), Some(18_628));
        assert_eq!(parse_date("2021-02-30"), None);
        assert_eq!(parse_time("10:00"), Some(36_000_000));
        assert_eq!(parse_time("10:00:00.001"), Some(36_000_001));
        assert_eq!(
            parse_timestamp("2019-03-17T03:00-0700"),
            Some(1_552_816_800_000)
        );
        assert_eq!(
            parse_timestamp("2019-03-17T10:00:00.000"),
            Some(1_552_816_800_000)
        );
        assert_eq!(parse_timestamp("abc"), None);
        for days in [-800_000, -1, 0, 59, 18_628, 2_932_896] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
    }

    #[test]
    fn patterns_format_and_parse_with_fixed_zones() {
        let t = 1_552_816_800_123; // 2019-03-17T10:00:00.123Z, a Sunday
        assert_eq!(
            format_pattern(t, "yyyy-MM-dd HH:mm:ss.SSS", 0).unwrap(),
            "2019-03-17 10:00:00.123"
        );
        assert_eq!(
            format_pattern(t, "yyyy-MM-dd'T'HH:mm:ssXXX", 2 * 3_600_000).unwrap(),
            "2019-03-17T12:00:00+02:00"
        );
        assert_eq!(
            format_pattern(t, "EEE, dd MMM yyyy hh:mm a Z", -8 * 3_600_000).unwrap(),
            "Sun, 17 Mar 2019 02:00 AM -0800"
        );
        assert_eq!(
            parse_pattern("2019-03-17 10:00:00.123", "yyyy-MM-dd HH:mm:ss.SSS", 0),
            Ok(t)
        );
        assert_eq!(
            parse_pattern(
                "2019-03-17T12:00:00.123+02:00",
                "yyyy-MM-dd'T'HH:mm:ss.SSSXXX",
                0
            ),
            Ok(t)
        );
        assert_eq!(
            parse_pattern("20190317100000123", "yyyyMMddHHmmssSSS", 0),
            Ok(t)
        );
        assert_eq!(
            parse_pattern(
                "2019-03-17 11:00:00.123",
                "yyyy-MM-dd HH:mm:ss.SSS",
                3_600_000
            ),
            Ok(t)
        );
        assert!(parse_pattern("2019-03-17", "yyyy-MM-dd HH", 0).is_err());
        assert!(parse_pattern("9999999999-01-01", "yyyy-MM-dd", 0).is_err());
        assert_eq!(parse_timestamp("99999999999-01-01"), None);
        assert_eq!(parse_date("99999999999-01-01"), None);
        assert!(format_pattern(t, "yyyy-qq", 0).is_err());
        assert_eq!(zone_offset("UTC"), Ok(0));
        assert_eq!(zone_offset("+05:30"), Ok(19_800_000));
        assert_eq!(zone_offset("GMT-8"), Ok(-28_800_000));
        assert!(zone_offset("America/New_York").is_err());
    }
}
