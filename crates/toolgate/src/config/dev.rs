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
