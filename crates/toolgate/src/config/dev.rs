//! The embedded configuration of `toolgate dev`: the gate trusting the emulator's demo tenant.

use std::net::SocketAddr;

use toolgate_emulator::demo;

/// The gate's configuration in dev mode, trusting the emulator at `authority`.
pub fn dev_config(authority: &str, bind: SocketAddr) -> String {
    format!(
        r#"
[server]
bind = "{bind}"

[auth]
provider = "entra-jwt"

[auth.entra]
authority_host = "{authority}"
tenant_id = "{tenant}"
client_id = "{client}"
scopes = ["access_as_user"]
required_scopes = ["access_as_user"]
app_roles = ["Task.Read", "Task.Write", "Task.All", "MCPServer.Admin"]
"#,
        tenant = demo::TENANT_ID,
        client = demo::API_CLIENT_ID,
    )
}

/// The same gate with the `entra-proxy` provider (`toolgate dev --auth entra-proxy`): MCP clients
/// register, sign in at the emulator and consent; the proxy issues its own tokens. `secret` is
/// random per run, so nothing issued survives a restart.
pub fn dev_proxy_config(authority: &str, bind: SocketAddr, secret: &str) -> String {
    format!(
        r#"
[server]
bind = "{bind}"

[auth]
provider = "entra-proxy"

[auth.entra]
authority_host = "{authority}"
tenant_id = "{tenant}"
client_id = "{client}"
client_secret = "{client_secret}"
scopes = ["access_as_user"]
required_scopes = ["access_as_user"]

[auth.proxy]
secret = "{secret}"

[state]
backend = "memory"
"#,
        tenant = demo::TENANT_ID,
        client = demo::API_CLIENT_ID,
        client_secret = demo::API_CLIENT_SECRET,
    )
}
