//! Addresses (userNames and emails) as matching compares them (README, "How a sync works"):
//! trimmed, Unicode NFC-normalised and case-insensitive, so that `Alice@Contoso.com`,
//! ` alice@contoso.com ` and a decomposed `é` name one address — and a domain part that says
//! whose user an address is.

use std::borrow::Cow;

use unicode_normalization::{IsNormalized, UnicodeNormalization, is_nfc_quick};

/// The form addresses are compared in. Borrowed when `address` is already in it (most are:
/// the target index holds one key per address of every target user).
pub fn normalized(address: &str) -> Cow<'_, str> {
    let trimmed = address.trim();
    let nfc = is_nfc_quick(trimmed.chars()) == IsNormalized::Yes;
    let lower = trimmed.chars().flat_map(char::to_lowercase).eq(trimmed.chars());
    match (nfc, lower) {
        (true, true) => Cow::Borrowed(trimmed),
        (true, false) => Cow::Owned(trimmed.to_lowercase()),
        // Lower-casing can leave a string that is not NFC (and NFC one that is not lower case):
        // normalise, lower, and normalise what the lowering made.
        _ => Cow::Owned(trimmed.nfc().collect::<String>().to_lowercase().nfc().collect()),
    }
}

/// The spellings to ask a server for when it compares exactly, where RFC 7643 §2.2 says it
/// should not: the address as given, its compared form, and that form decomposed (NFD), the
/// one some directories store. Each once.
pub fn lookup_forms(address: &str) -> Vec<String> {
    let compared = normalized(address);
    let mut forms = vec![address.to_owned()];
    for form in [compared.to_string(), compared.nfd().collect()] {
        if !forms.contains(&form) {
            forms.push(form);
        }
    }
    forms
}

/// The domain part of an address in its compared form: what follows the last `@`, without a
/// trailing dot (`contoso.com.` is `contoso.com`). `None` for a name without one.
pub fn domain_of(normalized_address: &str) -> Option<&str> {
    let (_, domain) = normalized_address.rsplit_once('@')?;
    let domain = domain.trim_end_matches('.');
    (!domain.is_empty()).then_some(domain)
}

/// A tenant's domains in their compared form, for `in_domains`; blanks left out.
pub fn domains<'a>(names: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let mut domains: Vec<String> = names
        .into_iter()
        .map(|d| normalized(d).trim_end_matches('.').to_owned())
        .filter(|d| !d.is_empty())
        .collect();
    domains.sort();
    domains.dedup();
    domains
}

/// The address (compared form) is in one of `domains` (compared form, see `domains`): its
/// domain part equals one of them. A subdomain is another domain: `eu.contoso.com` is not
/// `contoso.com`, as Entra verifies each domain on its own.
pub fn in_domains(normalized_address: &str, domains: &[String]) -> bool {
    domain_of(normalized_address).is_some_and(|d| domains.iter().any(|own| own == d))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_compare_trimmed_nfc_and_case_insensitively() {
        assert_eq!(normalized(" Alice@Contoso.COM "), "alice@contoso.com");
        assert!(matches!(normalized("alice@contoso.com"), Cow::Borrowed(_)));
        // "é" decomposed (e + U+0301) and composed are one address.
        assert_eq!(
            normalized("Ren\u{65}\u{301}@contoso.com"),
            normalized("ren\u{e9}@contoso.com")
        );
        assert_eq!(normalized("ÉMILE@contoso.com"), "émile@contoso.com");
    }

    #[test]
    fn lookups_ask_for_the_given_compared_and_decomposed_forms_once() {
        assert_eq!(lookup_forms("alice@contoso.com"), ["alice@contoso.com"]);
        assert_eq!(
            lookup_forms("René@Contoso.com"),
            ["René@Contoso.com", "ren\u{e9}@contoso.com", "rene\u{301}@contoso.com"]
        );
    }

    #[test]
    fn a_domain_is_the_part_after_the_last_at_and_never_a_subdomain() {
        let own = domains(["Contoso.com", " contoso.com ", "", "fabrikam.example."]);
        assert_eq!(own, ["contoso.com", "fabrikam.example"]);
        assert!(in_domains("alice@contoso.com", &own));
        assert!(in_domains("alice@contoso.com.", &own));
        assert!(in_domains("\"a@b\"@fabrikam.example", &own));
        assert!(
            !in_domains("alice@eu.contoso.com", &own),
            "a subdomain is another domain"
        );
        assert!(!in_domains("alice@contoso.com.evil", &own));
        assert!(!in_domains("alice@notcontoso.com", &own));
        assert!(!in_domains("alice", &own));
        assert!(!in_domains("alice@", &own));
        assert!(
            !in_domains("alice@contoso.com", &[]),
            "no known domain: nothing is the source's"
        );
    }
}
