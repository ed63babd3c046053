//! The `$filter` that finds the users holding an address (a userName or an email), for the
//! look-ups of incremental and on-demand cycles.

use super::resource::odata_literal;
use crate::engine::attributes::WORK_EMAIL;

/// The filter for users whose `attribute` (`userName` or the work email) is `value`; `invited`
/// is the `#EXT#` name the address has as an invited user. `None` for another attribute.
pub fn address_filter(attribute: &str, value: &str, invited: Option<&str>) -> Option<String> {
    match attribute {
        "userName" => Some(match invited {
            Some(invited) => format!(
                "userPrincipalName in ({}, {})",
                odata_literal(value),
                odata_literal(invited)
            ),
            None => format!("userPrincipalName eq {}", odata_literal(value)),
        }),
        // Every address a user may hold it as: `mail`, `otherMails`, or an SMTP proxy address
        // (Microsoft Learn, "user resource type": `mail` supports `eq`, the two collections
        // `any` with `eq`).
        WORK_EMAIL => Some(format!(
            "mail eq {0} or otherMails/any(x:x eq {0}) or proxyAddresses/any(x:x eq {1})",
            odata_literal(value),
            odata_literal(&format!("smtp:{value}"))
        )),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_email_is_looked_up_in_mail_other_mails_and_smtp_proxy_addresses() {
        assert_eq!(
            address_filter(WORK_EMAIL, "o'neil@contoso.com", None).as_deref(),
            Some(
                "mail eq 'o''neil@contoso.com' or otherMails/any(x:x eq 'o''neil@contoso.com') \
                 or proxyAddresses/any(x:x eq 'smtp:o''neil@contoso.com')"
            )
        );
        assert_eq!(
            address_filter(
                "userName",
                "a@contoso.com",
                Some("a_contoso.com#EXT#@f.onmicrosoft.com")
            )
            .as_deref(),
            Some("userPrincipalName in ('a@contoso.com', 'a_contoso.com#EXT#@f.onmicrosoft.com')")
        );
        assert_eq!(address_filter("title", "x", None), None);
    }
}
