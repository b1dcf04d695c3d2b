//! In-process upstreams: an rmcp `ServerHandler` running inside toolgate (the demo tools, an
//! embedder's own server) is an upstream like the others. Each downstream session gets its own
//! handler instance, called directly with the session's request context — so the handler sees
//! the caller's HTTP request parts (and through them the principal), and its notifications go
//! straight to the client. toolgate's catalog connection reaches it over an in-memory pipe.

use std::collections::HashMap;
use std::sync::Arc;

use futures::future::BoxFuture;
#[allow(
    deprecated,
    reason = "logging/setLevel is deprecated in rmcp for 2026-07-28; 2025 clients send it"
)]
use rmcp::model::SetLevelRequestParams;
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CompleteRequestParams, CompleteResult, GetPromptRequestParams,
    GetPromptResponse, ListPromptsResult, ListResourceTemplatesResult, ListResourcesResult, ListToolsResult,
    PaginatedRequestParams, ReadResourceRequestParams, ReadResourceResponse, SubscribeRequestParams,
    UnsubscribeRequestParams,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData as McpError, RoleServer, ServerHandler, ServiceExt as _};

/// The methods the gateway calls on an in-process handler, object-safe.
#[allow(
    deprecated,
    reason = "logging/setLevel is deprecated in rmcp for 2026-07-28; 2025 clients send it"
)]
pub trait DynHandler: Send + Sync + 'static {
    fn list_tools(&self, cx: RequestContext<RoleServer>) -> BoxFuture<'_, Result<ListToolsResult, McpError>>;
    fn call_tool(
        &self,
        request: CallToolRequestParams,
        cx: RequestContext<RoleServer>,
    ) -> BoxFuture<'_, Result<CallToolResponse, McpError>>;
    fn list_prompts(&self, cx: RequestContext<RoleServer>) -> BoxFuture<'_, Result<ListPromptsResult, McpError>>;
    fn get_prompt(
        &self,
        request: GetPromptRequestParams,
        cx: RequestContext<RoleServer>,
    ) -> BoxFuture<'_, Result<GetPromptResponse, McpError>>;
    fn list_resources(&self, cx: RequestContext<RoleServer>) -> BoxFuture<'_, Result<ListResourcesResult, McpError>>;
    fn list_resource_templates(
        &self,
        cx: RequestContext<RoleServer>,
    ) -> BoxFuture<'_, Result<ListResourceTemplatesResult, McpError>>;
    fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        cx: RequestContext<RoleServer>,
    ) -> BoxFuture<'_, Result<ReadResourceResponse, McpError>>;
    fn subscribe(
        &self,
        request: SubscribeRequestParams,
        cx: RequestContext<RoleServer>,
    ) -> BoxFuture<'_, Result<(), McpError>>;
    fn unsubscribe(
        &self,
        request: UnsubscribeRequestParams,
        cx: RequestContext<RoleServer>,
    ) -> BoxFuture<'_, Result<(), McpError>>;
    fn complete(
        &self,
        request: CompleteRequestParams,
        cx: RequestContext<RoleServer>,
    ) -> BoxFuture<'_, Result<CompleteResult, McpError>>;
    fn set_level(
        &self,
        request: SetLevelRequestParams,
        cx: RequestContext<RoleServer>,
    ) -> BoxFuture<'_, Result<(), McpError>>;
}

#[allow(
    deprecated,
    reason = "resources/subscribe and unsubscribe are deprecated in rmcp for 2026-07-28; 2025 clients use them"
)]
impl<H: ServerHandler> DynHandler for H {
    fn list_tools(&self, cx: RequestContext<RoleServer>) -> BoxFuture<'_, Result<ListToolsResult, McpError>> {
        Box::pin(ServerHandler::list_tools(self, None::<PaginatedRequestParams>, cx))
    }
    fn call_tool(
        &self,
        request: CallToolRequestParams,
        cx: RequestContext<RoleServer>,
    ) -> BoxFuture<'_, Result<CallToolResponse, McpError>> {
        Box::pin(ServerHandler::call_tool(self, request, cx))
    }
    fn list_prompts(&self, cx: RequestContext<RoleServer>) -> BoxFuture<'_, Result<ListPromptsResult, McpError>> {
        Box::pin(ServerHandler::list_prompts(self, None, cx))
    }
    fn get_prompt(
        &self,
        request: GetPromptRequestParams,
        cx: RequestContext<RoleServer>,
    ) -> BoxFuture<'_, Result<GetPromptResponse, McpError>> {
        Box::pin(ServerHandler::get_prompt(self, request, cx))
    }
    fn list_resources(&self, cx: RequestContext<RoleServer>) -> BoxFuture<'_, Result<ListResourcesResult, McpError>> {
        Box::pin(ServerHandler::list_resources(self, None, cx))
    }
    fn list_resource_templates(
        &self,
        cx: RequestContext<RoleServer>,
    ) -> BoxFuture<'_, Result<ListResourceTemplatesResult, McpError>> {
        Box::pin(ServerHandler::list_resource_templates(self, None, cx))
    }
    fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        cx: RequestContext<RoleServer>,
    ) -> BoxFuture<'_, Result<ReadResourceResponse, McpError>> {
        Box::pin(ServerHandler::read_resource(self, request, cx))
    }
    fn subscribe(
        &self,
        request: SubscribeRequestParams,
        cx: RequestContext<RoleServer>,
    ) -> BoxFuture<'_, Result<(), McpError>> {
        Box::pin(ServerHandler::subscribe(self, request, cx))
    }
    fn unsubscribe(
        &self,
        request: UnsubscribeRequestParams,
        cx: RequestContext<RoleServer>,
    ) -> BoxFuture<'_, Result<(), McpError>> {
        Box::pin(ServerHandler::unsubscribe(self, request, cx))
    }
    fn complete(
        &self,
        request: CompleteRequestParams,
        cx: RequestContext<RoleServer>,
    ) -> BoxFuture<'_, Result<CompleteResult, McpError>> {
        Box::pin(ServerHandler::complete(self, request, cx))
    }
    fn set_level(
        &self,
        request: SetLevelRequestParams,
        cx: RequestContext<RoleServer>,
    ) -> BoxFuture<'_, Result<(), McpError>> {
        Box::pin(ServerHandler::set_level(self, request, cx))
    }
}

/// Makes handler instances of one in-process upstream.
pub trait LocalFactory: Send + Sync + 'static {
    /// A handler for one downstream session.
    fn open(&self) -> Box<dyn DynHandler>;
    /// Serves a fresh handler over `io` as an rmcp server session (toolgate's catalog
    /// connection), until the other end closes.
    fn serve_on(&self, io: tokio::io::DuplexStream) -> BoxFuture<'static, ()>;
}

impl<H, F> LocalFactory for F
where
    H: ServerHandler,
    F: Fn() -> H + Send + Sync + 'static,
{
    fn open(&self) -> Box<dyn DynHandler> {
        Box::new(self())
    }

    fn serve_on(&self, io: tokio::io::DuplexStream) -> BoxFuture<'static, ()> {
        let handler = self();
        Box::pin(async move {
            match handler.serve(io).await {
                Ok(running) => {
                    let _ = running.waiting().await;
                }
                Err(error) => tracing::warn!(%error, "in-process upstream could not serve its catalog connection"),
            }
        })
    }
}

/// The in-process upstreams' factories, by upstream name.
#[derive(Default, Clone)]
pub struct LocalHandlers(HashMap<String, Arc<dyn LocalFactory>>);

impl LocalHandlers {
    pub fn insert(&mut self, upstream: &str, factory: Arc<dyn LocalFactory>) {
        self.0.insert(upstream.to_owned(), factory);
    }

    pub fn get(&self, upstream: &str) -> Option<&Arc<dyn LocalFactory>> {
        self.0.get(upstream)
    }
}
