//! The example policies, embedded so `toolgate dev` runs from any directory.

use toolgate_policy::PolicySource;

/// `policies/*.cedar` as shipped.
pub fn sources() -> Vec<PolicySource> {
    [
        ("guards.cedar", include_str!("../../../policies/guards.cedar")),
        ("roles.cedar", include_str!("../../../policies/roles.cedar")),
    ]
    .into_iter()
    .map(|(name, text)| PolicySource {
        name: name.to_owned(),
        text: text.to_owned(),
    })
    .collect()
}
