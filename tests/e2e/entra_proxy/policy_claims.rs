//! Every claim a policy can reference reaches the principal the same way under the three
//! providers: one policy with a rule on an extra claim (`[policy] extra_claims`), the same user,
//! `entra-jwt`, `azure-bearer` and `entra-proxy` in turn.

use toolgate::mcp_client::McpClient;
use toolgate_emulator::demo;

use super::{Options, stack};

/// The example policies plus one rule on an extra claim: Entra's `acct` (0 for members, 1 for
/// guests) mapped to `principal.account_type`. `account` is the value the rule forbids.
fn policy_dir(account: i64) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let examples = concat!(env!("CARGO_MANIFEST_DIR"), "/../policies");
    for file in ["roles.cedar", "guards.cedar"] {
        std::fs::copy(format!("{examples}/{file}"), dir.path().join(file)).unwrap();
    }
    std::fs::write(
        dir.path().join("claims.cedar"),
        format!(
            "@id(\"account-type-may-not-create\")\nforbid (principal, action == Action::\"call:create_task\", resource)\n\
             when {{ principal has account_type && principal.account_type == {account} }};\n"
        ),
    )
    .unwrap();
    dir
}

fn policy_toml(dir: &tempfile::TempDir) -> String {
    format!(
        "[policy]\ndir = \"{}\"\nextra_claims = [{{ claim = \"acct\", attribute = \"account_type\", kind = \"long\" }}]\n",
        dir.path().display()
    )
}

/// What alice may use through each provider, with the rule forbidding `account`.
async fn alice_tools(account: i64) -> Vec<(&'static str, Vec<String>)> {
    let dir = policy_dir(account);
    let policy = policy_toml(&dir);
    let mut seen = Vec::new();

    let jwt = crate::gateway::stack(&policy).await;
    let token = jwt.token("alice").await;
    seen.push(("entra-jwt", tools(&jwt.mcp_url, &token).await));

    let auth = format!(
        "[auth]\nprovider = \"azure-bearer\"\n\n[auth.azure_bearer]\nauthority_host = \"{{authority}}\"\ntenant_id = \"{}\"\nclient_id = \"{}\"\nscopes = [\"access_as_user\"]\n",
        demo::TENANT_ID,
        demo::API_CLIENT_ID
    );
    let bearer = crate::gateway::stack_with_auth(Some(&auth), &policy).await;
    let token = bearer.token("alice").await;
    seen.push(("azure-bearer", tools(&bearer.mcp_url, &token).await));

    let proxy = stack(Options {
        policy_toml: Some(policy.clone()),
        ..Options::default()
    })
    .await;
    let (_, tokens) = super::browser::sign_in(&proxy.base, "alice").await;
    seen.push(("entra-proxy", tools(&proxy.mcp_url, &tokens.access_token()).await));
    seen
}

async fn tools(mcp_url: &str, token: &str) -> Vec<String> {
    let mut client = McpClient::connect(mcp_url, token).await.unwrap();
    let mut tools = client.list_tools().await.unwrap();
    tools.sort();
    tools
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rule_on_an_extra_claim_decides_alike_under_every_provider() {
    // alice is a member (acct = 0): the rule forbidding account type 0 hides create_task from her
    // under every provider…
    for (provider, tools) in alice_tools(0).await {
        assert_eq!(
            tools,
            ["delete_task", "get_task", "list_tasks"],
            "{provider}: the extra claim reached the principal and the forbid applies"
        );
    }
    // …and the same rule for guests (acct = 1) leaves it to her: the claim's value is what decides.
    for (provider, tools) in alice_tools(1).await {
        assert_eq!(tools, super::ALICE_TOOLS, "{provider}");
    }
}
