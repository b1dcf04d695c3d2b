//! Running one `tools/call` through the gate without HTTP, for the REST API: the request goes
//! through the very same [`Gate`] (policy, audit, principal handed to the tool) as MCP traffic.
//!
//! rmcp's stateless HTTP path serves each request over a one-message transport with the HTTP
//! request parts in its extensions; this does the same with parts built for the REST caller.

use std::sync::Arc;

use rmcp::model::{
    CallToolRequest, CallToolRequestParams, ClientJsonRpcMessage, ClientRequest, GetExtensions, Implementation,
    InitializeRequestParams, JsonRpcRequest, ProtocolVersion, RequestId, ServerJsonRpcMessage, ServerResult,
};
use rmcp::service::serve_directly;
use rmcp::transport::OneshotTransport;
use rmcp::{RoleServer, ServerHandler};
use serde_json::{Map, Value};
use toolgate_core::RequestId as HttpRequestId;
use toolgate_core::{Principal, ToolCallError, ToolInvoker};

use crate::gate::{Gate, GateShared};

/// Invokes the tools of handlers made by `make_handler`, gated by `shared`.
pub struct InProcessTools<F> {
    make_handler: F,
    shared: Arc<GateShared>,
}

impl<F> InProcessTools<F> {
    pub fn new(make_handler: F, shared: Arc<GateShared>) -> Self {
        Self { make_handler, shared }
    }
}

fn internal(message: &str) -> ToolCallError {
    ToolCallError::Failed {
        code: -32603,
        message: message.to_owned(),
    }
}

#[async_trait::async_trait]
impl<H, F> ToolInvoker for InProcessTools<F>
where
    H: ServerHandler,
    F: Fn() -> H + Send + Sync + 'static,
{
    async fn invoke(
        &self,
        principal: Arc<Principal>,
        request_id: String,
        authorization: Option<http::HeaderValue>,
        tool: &str,
        arguments: Map<String, Value>,
    ) -> Result<Value, ToolCallError> {
        let (mut parts, ()) = http::Request::new(()).into_parts();
        if let Some(authorization) = authorization {
            parts.headers.insert(http::header::AUTHORIZATION, authorization);
        }
        parts.extensions.insert(principal);
        parts.extensions.insert(HttpRequestId(request_id));
        let params = CallToolRequestParams::new(tool.to_owned()).with_arguments(arguments);
        let mut request = JsonRpcRequest::new(
            RequestId::Number(1),
            ClientRequest::CallToolRequest(CallToolRequest::new(params)),
        );
        request.request.extensions_mut().insert(parts);
        let (transport, mut replies) = OneshotTransport::<RoleServer>::new(ClientJsonRpcMessage::Request(request));
        let peer = InitializeRequestParams::new(
            Default::default(),
            Implementation::new("toolgate-rest", env!("CARGO_PKG_VERSION")),
        )
        .with_protocol_version(ProtocolVersion::V_2025_03_26);
        let service = serve_directly(
            Gate::new((self.make_handler)(), self.shared.clone()),
            transport,
            Some(peer),
        );
        let reply = replies.recv().await;
        tokio::spawn(async move {
            let _ = service.waiting().await;
        });
        match reply {
            Some(ServerJsonRpcMessage::Response(response)) => match response.result {
                ServerResult::CallToolResult(result) => {
                    serde_json::to_value(result).map_err(|_| internal("tool result is not JSON"))
                }
                _ => Err(internal("unexpected reply to tools/call")),
            },
            Some(ServerJsonRpcMessage::Error(error)) => Err(crate::denial::classify(&error.error)),
            _ => Err(internal("no reply from the tool")),
        }
    }
}
