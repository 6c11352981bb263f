//! DECIMAL(p, s) values, exact: an unscaled `i128` and a scale (never `f64`), with Java
//! `BigDecimal`'s text forms, HALF_UP rounding, and ksqlDB's result types for `+ - * / %`
//! (`SqlDecimal.add/subtract/multiply/divide/modulus`; INT widens to DECIMAL(10, 0), BIGINT to
//! DECIMAL(19, 0)). Precision is capped at 38 digits, the `i128` range. No I/O.

use std::cmp::Ordering;

/// The largest precision a DECIMAL may declare here (ksqlDB's Connect decimals have no cap;
/// 38 digits is what an `i128` holds).
pub const MAX_PRECISION: u32 = 38;

/// An exact decimal number: `unscaled × 10^-scale`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Decimal {
    pub unscaled: i128,
    pub scale: u32,
}

fn pow10(n: u32) -> Option<i128> {
    10i128.checked_pow(n)
}

/// The number of decimal digits of `n` (1 for 0).
pub fn digits(n: i128) -> u32 {
    let mut n = n.unsigned_abs();
    let mut d = 1;
    while n >= 10 {
        n /= 10;
        d += 1;
    }
    d
}

/// `n / d` rounded HALF_UP (away from zero at .5).
fn div_half_up(n: i128, d: i128) -> Option<i128> {
    let q = n.checked_div(d)?;
    let r = n.checked_rem(d)?;
    if r == 0 {
        return Some(q);
    }
    let twice = r.unsigned_abs().checked_mul(2)?;
    if twice >= d.unsigned_abs() {
        let away = if (n < 0) != (d < 0) { -1 } else { 1 };
        q.checked_add(away)
    } else {
        Some(q)
    }
}

impl Decimal {
    pub fn new(unscaled: i128, scale: u32) -> Decimal {
        Decimal { unscaled, scale }
    }

    /// The precision this value needs (its digits, at least its scale + 1 as BigDecimal
    /// counts `0.05` as precision 1 but ksqlDB's types need the scale to fit).
    pub fn precision(&self) -> u32 {
        digits(self.unscaled)
    }

    /// Parses `[-+]digits[.digits][E[-+]n]` exactly, keeping the written scale.
    pub fn parse(text: &str) -> Option<Decimal> {
        let t = text.trim();
        let (mantissa, exp) = match t.find(['e', 'E']) {
            Some(i) => (&t[..i], t[i + 1..].parse::<i32>().ok()?),
            None => (t, 0),
        };
        let (neg, body) = match mantissa.strip_prefix('-') {
            Some(r) => (true, r),
            None => (false, mantissa.strip_prefix('+').unwrap_or(mantissa)),
        };
        let (int, frac) = body.split_once('.').unwrap_or((body, ""));
        if (int.is_empty() && frac.is_empty())
            || !int.bytes().all(|b| b.is_ascii_digit())
            || !frac.bytes().all(|b| b.is_ascii_digit())
        {
            return None;
        }
        let all = format!("{int}{frac}");
        let all = all.trim_start_matches('0');
        if all.len() > MAX_PRECISION as usize {
            return None;
        }
        let mut n: i128 = if all.is_empty() { 0 } else { all.parse().ok()? };
        if neg {
            n = -n;
        }
        let scale = frac.len() as i64 - exp as i64;
        if scale > i64::from(MAX_PRECISION) {
            return None;
        }
        if scale < 0 {
            let m = pow10(u32::try_from(-scale).ok()?)?;
            return Some(Decimal::new(n.checked_mul(m)?, 0));
        }
        Some(Decimal::new(n, u32::try_from(scale).ok()?))
    }

    /// Java's `BigDecimal.toPlainString` (`1.50`, `-0.05`, `12`).
    pub fn to_plain_string(&self) -> String {
        let digits = self.unscaled.unsigned_abs().to_string();
        let sign = if self.unscaled < 0 { "-" } else { "" };
        if self.scale == 0 {
            return format!("{sign}{digits}");
        }
        let scale = self.scale as usize;
        let padded = format!("{digits:0>width$}", width = scale + 1);
        let (int, frac) = padded.split_at(padded.len() - scale);
        format!("{sign}{int}.{frac}")
    }

    pub fn to_f64(&self) -> f64 {
        self.to_plain_string().parse().unwrap_or(f64::NAN)
    }

    /// A double as the shortest decimal that prints it (Java's `BigDecimal.valueOf`).
    pub fn from_f64(d: f64) -> Option<Decimal> {
        if !d.is_finite() {
            return None;
        }
        Decimal::parse(&format!("{d:?}"))
    }

    /// The value at `scale`, rounded HALF_UP; None on overflow.
    pub fn rescale(&self, scale: u32) -> Option<Decimal> {
        match scale.cmp(&self.scale) {
            Ordering::Equal => Some(*self),
            Ordering::Greater => Some(Decimal::new(
                self.unscaled.checked_mul(pow10(scale - self.scale)?)?,
                scale,
            )),
            Ordering::Less => Some(Decimal::new(
                div_half_up(self.unscaled, pow10(self.scale - scale)?)?,
                scale,
            )),
        }
    }

    /// The value as DECIMAL(precision, scale): rounded to the scale, None when the integer
    /// part does not fit (ksqlDB's `DecimalUtil.ensureFit` fails).
    pub fn fit(&self, precision: u32, scale: u32) -> Option<Decimal> {
        let d = self.rescale(scale)?;
        (digits(d.unscaled) <= precision || d.unscaled == 0).then_some(d)
    }

    pub fn cmp_exact(&self, other: &Decimal) -> Ordering {
        let s = self.scale.max(other.scale);
        match (self.rescale(s), other.rescale(s)) {
            (Some(a), Some(b)) => a.unscaled.cmp(&b.unscaled),
            _ => self
                .to_f64()
                .partial_cmp(&other.to_f64())
                .unwrap_or(Ordering::Equal),
        }
    }

    pub fn add(&self, other: &Decimal) -> Option<Decimal> {
        let s = self.scale.max(other.scale);
        Some(Decimal::new(
            self.rescale(s)?
                .unscaled
                .checked_add(other.rescale(s)?.unscaled)?,
            s,
        ))
    }

    pub fn neg(&self) -> Decimal {
        Decimal::new(-self.unscaled, self.scale)
    }

    pub fn sub(&self, other: &Decimal) -> Option<Decimal> {
        self.add(&other.neg())
    }

    pub fn mul(&self, other: &Decimal) -> Option<Decimal> {
        Some(Decimal::new(
            self.unscaled.checked_mul(other.unscaled)?,
            self.scale + other.scale,
        ))
    }

    /// `self / other` at `scale`, HALF_UP; None when dividing by zero or on overflow.
    pub fn div(&self, other: &Decimal, scale: u32) -> Option<Decimal> {
        if other.unscaled == 0 {
            return None;
        }
        // a/10^sa ÷ b/10^sb = (a × 10^(scale + sb - sa)) / b at `scale`.
        let shift = scale as i64 + other.scale as i64 - self.scale as i64;
        let (n, d) = if shift >= 0 {
            (
                self.unscaled.checked_mul(pow10(shift as u32)?)?,
                other.unscaled,
            )
        } else {
            (
                self.unscaled,
                other.unscaled.checked_mul(pow10((-shift) as u32)?)?,
            )
        };
        Some(Decimal::new(div_half_up(n, d)?, scale))
    }

    /// `self % other` (the sign of the dividend, as Java's `BigDecimal.remainder`).
    pub fn rem(&self, other: &Decimal) -> Option<Decimal> {
        if other.unscaled == 0 {
            return None;
        }
        let s = self.scale.max(other.scale);
        Some(Decimal::new(
            self.rescale(s)?
                .unscaled
                .checked_rem(other.rescale(s)?.unscaled)?,
            s,
        ))
    }
}

/// The DECIMAL type an integer type widens to: INT → (10, 0), BIGINT → (19, 0).
pub fn int_type(bigint: bool) -> (u32, u32) {
    if bigint {
        (19, 0)
    } else {
        (10, 0)
    }
}

/// ksqlDB's result type of `l op r` on DECIMAL(p1, s1) and DECIMAL(p2, s2) (`SqlDecimal`),
/// precision capped at [`MAX_PRECISION`].
pub fn result_type(op: char, (p1, s1): (u32, u32), (p2, s2): (u32, u32)) -> (u32, u32) {
    let (p, s) = match op {
        '+' | '-' => {
            let s = s1.max(s2);
            (s + (p1 - s1.min(p1)).max(p2 - s2.min(p2)) + 1, s)
        }
        '*' => (p1 + p2 + 1, s1 + s2),
        '/' => {
            let s = 6.max(s1 + p2 + 1);
            ((p1 - s1.min(p1)) + s2 + s, s)
        }
        _ => {
            let s = s1.max(s2);
            ((p1 - s1.min(p1)).min(p2 - s2.min(p2)) + s, s)
        }
    };
    (p.min(MAX_PRECISION), s.min(p.min(MAX_PRECISION)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        Decimal::parse(s).unwrap()
    }

    #[test]
    fn parses_and_prints_like_bigdecimal() {
        assert_eq!(d("1.50").to_plain_string(), "1.50");
        assert_eq!(d("-0.05").to_plain_string(), "-0.05");
        assert_eq!(d("12").to_plain_string(), "12");
        assert_eq!(d("1.5E2").to_plain_string(), "150");
        assert_eq!(d("1.5E-2").to_plain_string(), "0.015");
        assert_eq!(d(".5"), Decimal::new(5, 1));
        assert!(Decimal::parse("1.2.3").is_none() && Decimal::parse("abc").is_none());
        assert!(Decimal::parse("1E-2147483648").is_none());
        assert!(Decimal::parse("1E2147483647").is_none());
        assert_eq!(Decimal::from_f64(0.1), Some(d("0.1")));
    }

    #[test]
    fn rounding_is_half_up_and_fit_checks_precision() {
        assert_eq!(d("1.005").rescale(2), Some(d("1.01")));
        assert_eq!(d("-1.005").rescale(2), Some(d("-1.01")));
        assert_eq!(d("1.004").rescale(2), Some(d("1.00")));
        assert_eq!(d("123.456").fit(5, 2), Some(d("123.46")));
        assert_eq!(d("1234.5").fit(5, 2), None);
    }

    #[test]
    fn arithmetic_is_exact_with_ksqldbs_types() {
        assert_eq!(d("0.1").add(&d("0.2")), Some(d("0.3")));
        assert_eq!(d("1.25").mul(&d("2.5")), Some(d("3.125")));
        assert_eq!(d("10").div(&d("3"), 6), Some(d("3.333333")));
        assert_eq!(d("2").div(&d("3"), 6), Some(d("0.666667")));
        assert_eq!(d("1").div(&d("0"), 6), None);
        assert_eq!(d("-7.5").rem(&d("2")), Some(d("-1.5")));
        // SqlDecimal: (10,2)+(5,1) → (11,2); (10,2)*(5,1) → (16,3); (10,2)/(5,1) → (17,8).
        assert_eq!(result_type('+', (10, 2), (5, 1)), (11, 2));
        assert_eq!(result_type('*', (10, 2), (5, 1)), (16, 3));
        assert_eq!(result_type('/', (10, 2), (5, 1)), (17, 8));
        assert_eq!(result_type('%', (10, 2), (5, 1)), (6, 2));
        assert_eq!(result_type('/', (10, 0), (2, 1)), (17, 6));
    }
}
