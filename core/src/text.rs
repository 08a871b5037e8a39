//! Text helpers: Vietnamese search that finds "Đăng ký khai sinh" from "dang ky khai sinh", and
//! the words and hex digests records are written with.

/// The API name of a unit-only enum value (`"online"`, `"finishedLate"` …), as stored.
pub(crate) fn word<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// Lowercase hex of `bytes`, without a formatter per byte.
pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    bytes
        .iter()
        .flat_map(|b| [DIGITS[usize::from(b >> 4)], DIGITS[usize::from(b & 15)]])
        .map(char::from)
        .collect()
}

/// A write's input hash as stored: the first 128 bits of its SHA-256 `digest`, hex (32
/// characters). Enough to tell a changed push from the same one again; the other 128 bits
/// cost 32 bytes a record (README, "Storage per dossier").
pub(crate) fn input_hash(digest: &[u8]) -> String {
    hex(digest.get(..16).unwrap_or(digest))
}

/// Whether the input hash `stored` with a record is `new`: the same, or stored in full (64
/// characters) before hashes were cut to 128 bits.
pub fn same_input(stored: &str, new: &str) -> bool {
    stored == new || (stored.len() > new.len() && stored.starts_with(new))
}

/// Folds Vietnamese text for search: lowercase, tone marks and vowel marks removed, `đ` → `d`
/// (and `ð`, which text converted from legacy encodings has for it),
/// runs of white space collapsed. Works on precomposed (NFC) and decomposed (NFD) input alike.
pub fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut space = true;
    for c in text.chars() {
        // Combining marks of decomposed input (U+0300–U+036F) carry only tones and vowel marks.
        if ('\u{0300}'..='\u{036F}').contains(&c) {
            continue;
        }
        let base = base_letter(c);
        for l in base.to_lowercase() {
            if l.is_whitespace() {
                if !space {
                    out.push(' ');
                }
                space = true;
            } else {
                out.push(l);
                space = false;
            }
        }
    }
    if out.ends_with(' ') {
        out.pop();
    }
    out
}

fn base_letter(c: char) -> char {
    const GROUPS: [(&str, char); 14] = [
        ("àáạảãâầấậẩẫăằắặẳẵ", 'a'),
        ("ÀÁẠẢÃÂẦẤẬẨẪĂẰẮẶẲẴ", 'A'),
        ("èéẹẻẽêềếệểễ", 'e'),
        ("ÈÉẸẺẼÊỀẾỆỂỄ", 'E'),
        ("ìíịỉĩ", 'i'),
        ("ÌÍỊỈĨ", 'I'),
        ("òóọỏõôồốộổỗơờớợởỡ", 'o'),
        ("ÒÓỌỎÕÔỒỐỘỔỖƠỜỚỢỞỠ", 'O'),
        ("ùúụủũưừứựửữ", 'u'),
        ("ÙÚỤỦŨƯỪỨỰỬỮ", 'U'),
        ("ỳýỵỷỹ", 'y'),
        ("ỲÝỴỶỸ", 'Y'),
        // `Ð`/`ð` (U+00D0/U+00F0, the Eth) stand for `Đ`/`đ` in text converted from the
        // legacy Vietnamese encodings.
        ("đð", 'd'),
        ("ĐÐ", 'D'),
    ];
    if c.is_ascii() {
        return c;
    }
    GROUPS
        .iter()
        .find(|(letters, _)| letters.contains(c))
        .map_or(c, |(_, base)| *base)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn input_hashes_keep_128_bits_and_match_those_stored_in_full() {
        let digest: Vec<u8> = (0u8..32).collect();
        let full = hex(&digest);
        let cut = input_hash(&digest);
        assert_eq!(cut, "000102030405060708090a0b0c0d0e0f");
        assert!(same_input(&cut, &cut));
        assert!(same_input(&full, &cut));
        assert!(!same_input(&full.replace("00", "ff"), &cut));
        assert!(!same_input(&cut, &input_hash(&[1u8; 32])));
        assert!(!same_input("", &cut));
    }

    #[test]
    fn folding_removes_marks_and_case() {
        assert_eq!(fold("Đăng ký khai sinh"), "dang ky khai sinh");
        // The Eth of text converted from legacy encodings, in either case.
        assert_eq!(
            fold("Ðăng ký quyền sử dụng ðất"),
            "dang ky quyen su dung dat"
        );
        assert_eq!(fold("  THỦ TỤC   hành chính "), "thu tuc hanh chinh");
        assert_eq!(
            fold("Cấp Giấy chứng nhận quyền sử dụng đất"),
            "cap giay chung nhan quyen su dung dat"
        );
        // Decomposed input: "ế" as e + U+0302 + U+0301.
        assert_eq!(fold("Ti\u{65}\u{302}\u{301}p nhận"), "tiep nhan");
        assert_eq!(fold(&fold("Ưu đãi")), fold("Ưu đãi"));
    }
}
