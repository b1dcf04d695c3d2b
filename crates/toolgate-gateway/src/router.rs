//! [`Router`]: the `ServerHandler` that gateway mode puts behind the gate — one per downstream
//! session. Lists are gathered from every upstream (in parallel, each bounded by its timeouts;
//! names qualified); calls are routed by name (tools, prompts) or URI (resources) to the upstream
//! that offers them, with the upstream's own name. The gate has decided and audited before any
//! of this runs.

use std::borrow::Cow;
use std::sync::Arc;

use futures::future::join_all;
use rmcp::model::*;
use rmcp::service::RequestContext;
use rmcp::{ErrorData as McpError, RoleServer, ServerHandler};

use crate::catalog::Offer;
use crate::config::WhenDown;
use crate::core::GatewayCore;
use crate::session::{Link, Slot, unavailable};
use crate::upstream::client::UPSTREAM_PROTOCOL;

/// The gateway's handler for one downstream session.
pub struct Router {
    core: Arc<GatewayCore>,
    slots: Vec<Slot>,
}

impl Router {
    /// A router for a new session; opens nothing until the session needs an upstream.
    pub fn new(core: Arc<GatewayCore>) -> Self {
        let slots = core.upstreams.iter().map(|u| Slot::new(u.clone())).collect();
        Self { core, slots }
    }

    fn slot(&self, index: usize) -> Result<&Slot, McpError> {
        self.slots
            .get(index)
            .ok_or_else(|| McpError::internal_error("no such upstream", None))
    }

    /// Lists upstream `slot`'s offer of `what` for this session (its own credentials).
    async fn offer_of(&self, slot: &Slot, cx: &RequestContext<RoleServer>) -> Result<Offer, McpError> {
        let timeout = slot.upstream.settings.call_timeout;
        match slot.link(&self.core, cx).await? {
            Link::Remote(connection) => match crate::upstream::list_offer(&connection.peer, timeout).await {
                Ok(offer) => Ok(offer),
                Err(crate::upstream::ListError::Service(error)) => {
                    let error = slot.failed(error);
                    slot.drop_link().await;
                    Err(error)
                }
                Err(timed_out) => Err(unavailable(slot.upstream.name(), timed_out)),
            },
            Link::Local(handler) => {
                let tools = handler
                    .list_tools(cx.clone())
                    .await
                    .map(|r| r.tools)
                    .unwrap_or_default();
                let prompts = handler
                    .list_prompts(cx.clone())
                    .await
                    .map(|r| r.prompts)
                    .unwrap_or_default();
                let resources = handler
                    .list_resources(cx.clone())
                    .await
                    .map(|r| r.resources)
                    .unwrap_or_default();
                let templates = handler
                    .list_resource_templates(cx.clone())
                    .await
                    .map(|r| r.resource_templates)
                    .unwrap_or_default();
                Ok(Offer {
                    tools,
                    prompts,
                    resources,
                    templates,
                })
            }
        }
    }

    /// Every upstream's offer for this session, in configuration order. An upstream that fails
    /// contributes what the catalog last knew of it (`when_down = "list"`) or nothing.
    async fn offers(&self, cx: &RequestContext<RoleServer>) -> Vec<(usize, Offer)> {
        let listings = join_all(self.slots.iter().map(|slot| self.offer_of(slot, cx))).await;
        let mut offers = Vec::with_capacity(listings.len());
        for (slot, listing) in self.slots.iter().zip(listings) {
            let index = slot.upstream.index;
            match listing {
                Ok(offer) => {
                    if self.core.catalog.observe(index, offer.clone(), false) {
                        self.core.sync.catalog_changed().await;
                    }
                    offers.push((index, offer));
                }
                Err(error) => {
                    tracing::warn!(upstream = %slot.upstream.name(), error = %error.message, "listing an upstream failed");
                    if slot.upstream.settings.when_down == WhenDown::List {
                        offers.push((index, self.core.catalog.offer(index)));
                    }
                }
            }
        }
        offers
    }

    /// Forwards `request` to upstream `index` for this session.
    async fn forward(
        &self,
        index: usize,
        request: ClientRequest,
        cx: RequestContext<RoleServer>,
    ) -> Result<ServerResult, McpError> {
        let slot = self.slot(index)?;
        let mut result = match slot.link(&self.core, &cx).await? {
            Link::Remote(connection) => slot.request(&connection, request, &cx).await?,
            Link::Local(handler) => local(handler.as_ref(), request, cx).await?,
        };
        mark_complete(&mut result);
        Ok(result)
    }

    fn tool_route(&self, name: &str) -> Result<(usize, String), McpError> {
        self.core
            .catalog
            .route_tool(name)
            .ok_or_else(|| McpError::invalid_params("tool not found", None))
    }

    fn prompt_route(&self, name: &str) -> Result<(usize, String), McpError> {
        self.core
            .catalog
            .route_prompt(name)
            .ok_or_else(|| McpError::invalid_params(format!("prompt '{name}' not found"), None))
    }

    fn resource_route(&self, uri: &str) -> Result<usize, McpError> {
        self.core
            .catalog
            .route_resource(uri)
            .ok_or_else(|| McpError::resource_not_found(format!("resource '{uri}' not found"), None))
    }
}

/// Calls an in-process handler directly with the downstream context.
async fn local(
    handler: &dyn crate::upstream::local::DynHandler,
    request: ClientRequest,
    cx: RequestContext<RoleServer>,
) -> Result<ServerResult, McpError> {
    Ok(match request {
        ClientRequest::CallToolRequest(r) => match handler.call_tool(r.params, cx).await? {
            CallToolResponse::Complete(result) => ServerResult::CallToolResult(result),
            other => return Err(unexpected(&other)),
        },
        ClientRequest::GetPromptRequest(r) => match handler.get_prompt(r.params, cx).await? {
            GetPromptResponse::Complete(result) => ServerResult::GetPromptResult(result),
            other => return Err(unexpected(&other)),
        },
        ClientRequest::ReadResourceRequest(r) => match handler.read_resource(r.params, cx).await? {
            ReadResourceResponse::Complete(result) => ServerResult::ReadResourceResult(result),
            other => return Err(unexpected(&other)),
        },
        ClientRequest::SubscribeRequest(r) => {
            handler.subscribe(r.params, cx).await?;
            ServerResult::empty(())
        }
        ClientRequest::UnsubscribeRequest(r) => {
            handler.unsubscribe(r.params, cx).await?;
            ServerResult::empty(())
        }
        ClientRequest::CompleteRequest(r) => ServerResult::CompleteResult(handler.complete(r.params, cx).await?),
        ClientRequest::SetLevelRequest(r) => {
            handler.set_level(r.params, cx).await?;
            ServerResult::empty(())
        }
        _ => return Err(McpError::new(ErrorCode::METHOD_NOT_FOUND, "method not found", None)),
    })
}

fn unexpected<T: std::fmt::Debug>(answer: &T) -> McpError {
    tracing::warn!(answer = ?answer, "an upstream answered with a form the gateway does not forward");
    McpError::internal_error("the upstream answered with an unsupported result form", None)
}

fn wrong_result(result: &ServerResult) -> McpError {
    unexpected(result)
}

impl ServerHandler for Router {
    #[allow(
        deprecated,
        reason = "logging is deprecated in rmcp for 2026-07-28; the gateway speaks 2025-11-25, where upstreams log"
    )]
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(
            ServerCapabilities::builder()
                .enable_tools()
                .enable_tool_list_changed()
                .enable_prompts()
                .enable_prompts_list_changed()
                .enable_resources()
                .enable_resources_subscribe()
                .enable_resources_list_changed()
                .enable_logging()
                .enable_completions()
                .build(),
        )
        .with_server_info(Implementation::new("toolgate", env!("CARGO_PKG_VERSION")))
        .with_protocol_version(UPSTREAM_PROTOCOL)
    }

    /// Every version rmcp knows: sessions up to 2025-11-25 (their own upstream links), and the
    /// stateless 2026-07-28 era (`server/discover`, no `initialize`; its requests use the
    /// [shared links](crate::shared_links)). Upstreams are spoken to in 2025-11-25 either way.
    fn supported_protocol_versions(&self) -> Cow<'static, [ProtocolVersion]> {
        Cow::Borrowed(ProtocolVersion::KNOWN_VERSIONS)
    }

    async fn initialize(
        &self,
        request: InitializeRequestParams,
        cx: RequestContext<RoleServer>,
    ) -> Result<InitializeResult, McpError> {
        cx.peer.set_peer_info(request.clone());
        self.core.sync.register(cx.peer.clone());
        self.negotiate_initialize(&request)
    }

    async fn ping(&self, _cx: RequestContext<RoleServer>) -> Result<(), McpError> {
        Ok(())
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        cx: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, McpError> {
        let mut tools = Vec::new();
        for (index, offer) in self.offers(&cx).await {
            tools.extend(
                offer
                    .tools
                    .into_iter()
                    .map(|t| self.core.catalog.qualify_tool(index, t)),
            );
        }
        Ok(ListToolsResult::with_all_items(tools))
    }

    async fn call_tool(
        &self,
        mut request: CallToolRequestParams,
        cx: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, McpError> {
        let (index, own) = self.tool_route(&request.name)?;
        request.name = own.into();
        match self
            .forward(index, ClientRequest::CallToolRequest(CallToolRequest::new(request)), cx)
            .await?
        {
            ServerResult::CallToolResult(result) => Ok(result.into()),
            other => Err(wrong_result(&other)),
        }
    }

    async fn list_prompts(
        &self,
        _request: Option<PaginatedRequestParams>,
        cx: RequestContext<RoleServer>,
    ) -> Result<ListPromptsResult, McpError> {
        let mut prompts = Vec::new();
        for (index, offer) in self.offers(&cx).await {
            prompts.extend(
                offer
                    .prompts
                    .into_iter()
                    .map(|p| self.core.catalog.qualify_prompt(index, p)),
            );
        }
        Ok(ListPromptsResult::with_all_items(prompts))
    }

    async fn get_prompt(
        &self,
        mut request: GetPromptRequestParams,
        cx: RequestContext<RoleServer>,
    ) -> Result<GetPromptResponse, McpError> {
        let (index, own) = self.prompt_route(&request.name)?;
        request.name = own;
        match self
            .forward(
                index,
                ClientRequest::GetPromptRequest(GetPromptRequest::new(request)),
                cx,
            )
            .await?
        {
            ServerResult::GetPromptResult(result) => Ok(result.into()),
            other => Err(wrong_result(&other)),
        }
    }

    async fn list_resources(
        &self,
        _request: Option<PaginatedRequestParams>,
        cx: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, McpError> {
        let resources = self
            .offers(&cx)
            .await
            .into_iter()
            .flat_map(|(_, o)| o.resources)
            .collect();
        Ok(ListResourcesResult::with_all_items(resources))
    }

    async fn list_resource_templates(
        &self,
        _request: Option<PaginatedRequestParams>,
        cx: RequestContext<RoleServer>,
    ) -> Result<ListResourceTemplatesResult, McpError> {
        let templates = self
            .offers(&cx)
            .await
            .into_iter()
            .flat_map(|(_, o)| o.templates)
            .collect();
        Ok(ListResourceTemplatesResult::with_all_items(templates))
    }

    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        cx: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, McpError> {
        let index = self.resource_route(&request.uri)?;
        match self
            .forward(
                index,
                ClientRequest::ReadResourceRequest(ReadResourceRequest::new(request)),
                cx,
            )
            .await?
        {
            ServerResult::ReadResourceResult(result) => Ok(result.into()),
            other => Err(wrong_result(&other)),
        }
    }

    #[allow(
        deprecated,
        reason = "resources/subscribe is deprecated in rmcp for 2026-07-28; 2025 clients use it"
    )]
    async fn subscribe(&self, request: SubscribeRequestParams, cx: RequestContext<RoleServer>) -> Result<(), McpError> {
        let index = self.resource_route(&request.uri)?;
        self.forward(
            index,
            ClientRequest::SubscribeRequest(SubscribeRequest::new(request)),
            cx,
        )
        .await
        .map(|_| ())
    }

    #[allow(
        deprecated,
        reason = "resources/unsubscribe is deprecated in rmcp for 2026-07-28; 2025 clients use it"
    )]
    async fn unsubscribe(
        &self,
        request: UnsubscribeRequestParams,
        cx: RequestContext<RoleServer>,
    ) -> Result<(), McpError> {
        let index = self.resource_route(&request.uri)?;
        self.forward(
            index,
            ClientRequest::UnsubscribeRequest(UnsubscribeRequest::new(request)),
            cx,
        )
        .await
        .map(|_| ())
    }

    async fn complete(
        &self,
        mut request: CompleteRequestParams,
        cx: RequestContext<RoleServer>,
    ) -> Result<CompleteResult, McpError> {
        let index = match &mut request.r#ref {
            Reference::Prompt(prompt) => {
                let (index, own) = self.prompt_route(&prompt.name)?;
                prompt.name = own;
                index
            }
            Reference::Resource(resource) => self.resource_route(&resource.uri)?,
            _ => return Err(McpError::invalid_params("unsupported completion reference", None)),
        };
        match self
            .forward(index, ClientRequest::CompleteRequest(CompleteRequest::new(request)), cx)
            .await?
        {
            ServerResult::CompleteResult(result) => Ok(result),
            other => Err(wrong_result(&other)),
        }
    }

    /// The log level goes to every upstream of the session that logs; one that does not is no
    /// reason to fail.
    #[allow(
        deprecated,
        reason = "rmcp deprecates logging (SEP-2577) for 2026-07-28; 2025 clients, the Inspector among them, send logging/setLevel"
    )]
    async fn set_level(&self, request: SetLevelRequestParams, cx: RequestContext<RoleServer>) -> Result<(), McpError> {
        let sends = self.slots.iter().enumerate().map(|(index, _)| {
            self.forward(
                index,
                ClientRequest::SetLevelRequest(SetLevelRequest::new(request.clone())),
                cx.clone(),
            )
        });
        for (slot, result) in self.slots.iter().zip(join_all(sends).await) {
            if let Err(error) = result {
                tracing::debug!(upstream = %slot.upstream.name(), error = %error.message, "logging/setLevel not applied");
            }
        }
        Ok(())
    }
}

/// Upstreams are spoken to in 2025-11-25, whose results carry no `resultType`; 2026-07-28
/// requires one (SEP-2322: `"complete"` for a final result, and clients such as the Python SDK
/// reject results without it). rmcp removes `"complete"` again for clients of older versions.
fn mark_complete(result: &mut ServerResult) {
    let result_type = match result {
        ServerResult::CompleteResult(r) => &mut r.result_type,
        ServerResult::GetPromptResult(r) => &mut r.result_type,
        ServerResult::ReadResourceResult(r) => &mut r.result_type,
        ServerResult::CallToolResult(r) => &mut r.result_type,
        _ => return,
    };
    result_type.get_or_insert(ResultType::COMPLETE);
}
