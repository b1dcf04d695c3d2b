//! [`Gate`]: an rmcp `ServerHandler` that wraps another and puts policy and audit in front of
//! its tools, prompts and resources. Everything else is forwarded untouched.
//!
//! One path decides every item ([`Item`]): name bounds → (tools) undeclared arguments removed →
//! rate limits (when configured: [`GateShared::with_rate_limits`]) → policy → a denial is audited and answered like a missing item → an allowed request's decision
//! is recorded *durably* ([`AuditSink::record_durable`]) → only then is the wrapped handler
//! called, with exactly the arguments the policy judged → its outcome completes the row.

use std::borrow::Cow;
use std::future::Future;
use std::sync::Arc;
use std::time::Instant;

use rmcp::model::*;
use rmcp::service::{MaybeSendFuture, NotificationContext, RequestContext, SubscriptionContext};
use rmcp::{ErrorData as McpError, RoleServer, ServerHandler};
use serde_json::{Map, Value};
use toolgate_core::{
    ArgumentCapture, AuditDecision, AuditEvent, AuditOutcome, AuditSink, Decision, ItemKind, ItemOrigins, LimitedItem,
    Principal, RateLimiter, ToolPolicy,
};

use toolgate_telemetry::Stage;
use tracing::Instrument as _;

use crate::caller::Caller;
use crate::catalog::ToolTags;
use crate::denial::{DenialStyle, unauthenticated};

/// The longest tool or prompt name accepted (MCP: names are 1–128 characters).
pub const MAX_NAME_CHARS: usize = 128;
/// The longest resource URI accepted.
pub const MAX_URI_CHARS: usize = 2048;

/// How the gate behaves.
#[derive(Debug, Clone, Default)]
pub struct GateOptions {
    pub denial: DenialStyle,
    /// What of the arguments is kept in audit rows (the digest is always kept).
    pub capture: ArgumentCapture,
    pub tool_tags: ToolTags,
    /// Methods forwarded without a decision (see [`PassThrough`]).
    pub pass_through: PassThrough,
}

/// The MCP methods the gate forwards without a policy decision. Every other method is either
/// decided by policy (tools, prompts, resources, subscriptions, completions) or refused with
/// `-32601` — so a method a future rmcp adds cannot slip past the gate unnoticed. `ping`,
/// `initialize` and `server/discover` (the protocol's lifecycle) always pass.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PassThrough(pub Vec<String>);

/// What passes by default: the log level, resource templates (URI patterns, not data) and the
/// 2026-07-28 subscription stream (change notices, not data).
pub const DEFAULT_PASS_THROUGH: [&str; 3] = ["logging/setLevel", "resources/templates/list", "subscriptions/listen"];

impl Default for PassThrough {
    fn default() -> Self {
        Self(DEFAULT_PASS_THROUGH.iter().map(|m| (*m).to_owned()).collect())
    }
}

impl PassThrough {
    pub fn allows(&self, method: &str) -> bool {
        self.0.iter().any(|m| m == method)
    }
}

/// What every gated session shares: the policy, the audit sink, the options, and (gateway
/// mode) where items come from.
pub struct GateShared {
    pub policy: Arc<dyn ToolPolicy>,
    pub audit: Arc<dyn AuditSink>,
    pub options: GateOptions,
    /// Resolves namespaced items to their upstream, for audit rows.
    pub origins: Option<Arc<dyn ItemOrigins>>,
    /// Tool and upstream rate limits, asked before policy.
    pub rate_limits: Option<Arc<dyn RateLimiter>>,
}

impl GateShared {
    pub fn new(policy: Arc<dyn ToolPolicy>, audit: Arc<dyn AuditSink>, options: GateOptions) -> Self {
        Self {
            policy,
            audit,
            options,
            origins: None,
            rate_limits: None,
        }
    }

    /// Asks `limits` about every decided item (tool calls, prompts, resources, completions,
    /// subscriptions) after authentication and before policy; a refusal is audited
    /// (`rate_limited`) and answered with `-32029` ([`crate::RATE_LIMITED`]).
    pub fn with_rate_limits(mut self, limits: Arc<dyn RateLimiter>) -> Self {
        self.rate_limits = Some(limits);
        self
    }

    pub fn with_origins(mut self, origins: Arc<dyn ItemOrigins>) -> Self {
        self.origins = Some(origins);
        self
    }
}

/// Wraps an rmcp server handler. Cheap to create per session: the shared part is an `Arc`.
pub struct Gate<H> {
    inner: H,
    shared: Arc<GateShared>,
}

/// What a request is about: the one thing policy decides on.
enum Item<'a> {
    Tool { name: &'a str, arguments: &'a Value },
    Prompt { name: &'a str },
    Resource { uri: &'a str },
}

impl Item<'_> {
    fn kind(&self) -> ItemKind {
        match self {
            Self::Tool { .. } => ItemKind::Tool,
            Self::Prompt { .. } => ItemKind::Prompt,
            Self::Resource { .. } => ItemKind::Resource,
        }
    }

    fn key(&self) -> &str {
        match self {
            Self::Tool { name, .. } | Self::Prompt { name } => name,
            Self::Resource { uri } => uri,
        }
    }

    /// MCP's bounds on names (and a bound on URIs), checked before policy, audit and logs see
    /// the text.
    fn check_bounds(&self) -> Result<(), McpError> {
        let (what, max) = match self {
            Self::Tool { .. } | Self::Prompt { .. } => ("name", MAX_NAME_CHARS),
            Self::Resource { .. } => ("uri", MAX_URI_CHARS),
        };
        let key = self.key();
        if key.is_empty() || key.chars().count() > max {
            return Err(McpError::invalid_params(
                format!("{what} must be 1 to {max} characters"),
                None,
            ));
        }
        Ok(())
    }

    fn decide(&self, policy: &dyn ToolPolicy, principal: &Principal) -> Decision {
        match self {
            Self::Tool { name, arguments } => policy.authorize_call(principal, name, arguments),
            Self::Prompt { name } => policy.authorize_prompt(principal, name),
            Self::Resource { uri } => policy.authorize_resource(principal, uri),
        }
    }

    fn refusal(&self, denial: DenialStyle) -> McpError {
        match self {
            Self::Tool { name, .. } => denial.error(name),
            Self::Prompt { name } => denial.prompt_error(name),
            Self::Resource { uri } => denial.resource_error(uri),
        }
    }
}

/// The caller of `context` and its principal; a request without one reached the gate
/// unauthenticated (the endpoint was mounted without authentication) and is refused.
fn authenticated(context: &RequestContext<RoleServer>) -> Result<(Caller, Arc<Principal>), McpError> {
    let caller = Caller::of(context);
    match caller.principal.clone() {
        Some(principal) => Ok((caller, principal)),
        None => Err(unauthenticated()),
    }
}

/// The list results the gate filters: what is kept is what the caller may use.
trait FilteredList {
    fn len(&self) -> usize;
    fn keep(&mut self, policy: &dyn ToolPolicy, principal: &Principal);
    fn mark_private(&mut self);
}

impl FilteredList for ListToolsResult {
    fn len(&self) -> usize {
        self.tools.len()
    }
    fn keep(&mut self, policy: &dyn ToolPolicy, principal: &Principal) {
        let names: Vec<&str> = self.tools.iter().map(|t| t.name.as_ref()).collect();
        let mut listable = policy.listable(principal, &names).into_iter();
        // `listable` answers in order, one per tool; a short answer hides the rest.
        self.tools.retain(|_| listable.next().unwrap_or(false));
    }
    fn mark_private(&mut self) {
        self.cache_scope = Some(CacheScope::Private);
    }
}

impl FilteredList for ListPromptsResult {
    fn len(&self) -> usize {
        self.prompts.len()
    }
    fn keep(&mut self, policy: &dyn ToolPolicy, principal: &Principal) {
        self.prompts
            .retain(|p| policy.authorize_prompt(principal, &p.name).is_allowed());
    }
    fn mark_private(&mut self) {
        self.cache_scope = Some(CacheScope::Private);
    }
}

impl FilteredList for ListResourcesResult {
    fn len(&self) -> usize {
        self.resources.len()
    }
    fn keep(&mut self, policy: &dyn ToolPolicy, principal: &Principal) {
        self.resources
            .retain(|r| policy.authorize_resource(principal, &r.uri).is_allowed());
    }
    fn mark_private(&mut self) {
        self.cache_scope = Some(CacheScope::Private);
    }
}

/// How a forwarded request ended, for its audit row.
trait Outcome {
    fn outcome(&self) -> (AuditOutcome, Option<String>);
}

impl<T> Outcome for Result<T, McpError> {
    fn outcome(&self) -> (AuditOutcome, Option<String>) {
        match self {
            Ok(_) => (AuditOutcome::Ok, None),
            Err(error) => (AuditOutcome::Error, Some(format!("mcp_error_{}", error.code.0))),
        }
    }
}

/// A tool's own failure (`isError: true`) is an outcome of its own.
fn tool_outcome(result: &Result<CallToolResponse, McpError>) -> (AuditOutcome, Option<String>) {
    match result {
        Ok(CallToolResponse::Complete(r)) if r.is_error == Some(true) => (AuditOutcome::ToolError, None),
        other => other.outcome(),
    }
}

impl<H: ServerHandler> Gate<H> {
    pub fn new(inner: H, shared: Arc<GateShared>) -> Self {
        Self { inner, shared }
    }

    pub fn inner(&self) -> &H {
        &self.inner
    }

    fn audit_unavailable(unavailable: &toolgate_core::AuditUnavailable) -> McpError {
        tracing::error!(%unavailable, "audit trail unavailable: refusing the request (fail closed)");
        McpError::internal_error("audit trail unavailable", None)
    }

    async fn record(&self, event: AuditEvent) -> Result<(), McpError> {
        self.shared
            .audit
            .record(event)
            .instrument(tracing::info_span!("toolgate.audit", durable = false))
            .await
            .map_err(|unavailable| Self::audit_unavailable(&unavailable))
    }

    /// The allowed request's decision, durable before the request is forwarded.
    async fn record_durable(&self, event: AuditEvent) -> Result<(), McpError> {
        self.shared
            .audit
            .record_durable(event)
            .instrument(tracing::info_span!("toolgate.audit", durable = true))
            .await
            .map_err(|unavailable| Self::audit_unavailable(&unavailable))
    }

    /// Calls the wrapped handler (in gateway mode, the upstream): span `toolgate.upstream`,
    /// timed as [`Stage::Upstream`]. The span is current while it runs, so the gateway sends
    /// the upstream a `traceparent` naming it.
    async fn upstream<T>(&self, call: impl Future<Output = T>) -> T {
        let _timer = Stage::Upstream.timer();
        call.instrument(tracing::info_span!("toolgate.upstream")).await
    }

    /// The one decision path (see the module documentation). `forward` is called only once the
    /// decision is allowed and durably recorded.
    async fn decide_then<T, F, Fut>(
        &self,
        method: &'static str,
        item: Item<'_>,
        context: RequestContext<RoleServer>,
        forward: F,
        outcome: impl FnOnce(&Result<T, McpError>) -> (AuditOutcome, Option<String>),
    ) -> Result<T, McpError>
    where
        F: FnOnce(RequestContext<RoleServer>) -> Fut,
        Fut: Future<Output = Result<T, McpError>>,
    {
        let started = Instant::now();
        item.check_bounds()?;
        let (caller, principal) = authenticated(&context)?;
        let span = caller.span(method, &context);
        async move {
            let origin = self
                .shared
                .origins
                .as_ref()
                .and_then(|o| o.origin(item.kind(), item.key()));
            let event = caller
                .event(method, AuditDecision::Deny, AuditOutcome::Pending)
                .principal(&principal)
                .tool(Some(item.key()))
                .origin(origin.as_ref());
            if let Some(limits) = &self.shared.rate_limits {
                let limited = LimitedItem {
                    kind: item.kind(),
                    name: item.key(),
                    upstream: origin.as_ref().map(|o| o.upstream.as_str()),
                };
                if let Err(refused) = crate::throttle::admit(limits.as_ref(), &principal, limited).await {
                    let event = event.outcome(refused.outcome).reason(Some(refused.reason));
                    self.record(event.latency(started)).await?;
                    return Err(refused.error);
                }
            }
            let decision = {
                let span = tracing::info_span!("toolgate.decision", effect = tracing::field::Empty).entered();
                let _timer = Stage::Policy.timer();
                let decision = item.decide(self.shared.policy.as_ref(), &principal);
                span.record("effect", AuditDecision::of(Some(&decision)).as_str());
                decision
            };
            let mut event = event.decided(&decision);
            if let Item::Tool { arguments, .. } = &item {
                event = event.arguments(arguments, &self.shared.options.capture);
            }
            if !decision.is_allowed() {
                tracing::info!(item = %toolgate_core::text::bounded(item.key(), 128), method,
                    policies = ?decision.determining_policies(), errors = ?decision.errors(), "request denied by policy");
                self.record(
                    event
                        .outcome(AuditOutcome::Denied)
                        .reason(Some("policy_deny"))
                        .latency(started),
                )
                .await?;
                return Err(item.refusal(self.shared.options.denial));
            }
            let shadow = decision.is_shadow_deny();
            if shadow {
                tracing::warn!(item = %toolgate_core::text::bounded(item.key(), 128), policies = ?decision.determining_policies(),
                    "shadow mode: policy would deny this request");
            }
            self.record_durable(event.clone()).await?;
            let result = self.upstream(forward(context)).await;
            let (done, reason) = outcome(&result);
            let reason = reason.or_else(|| shadow.then(|| "shadow_would_deny".to_owned()));
            self.record(event.completed(done, reason.as_deref(), started)).await?;
            result
        }
        .instrument(span)
        .await
    }

    /// Refuses `method` with `-32601` unless it is configured to pass through.
    fn passing(&self, method: &str) -> Result<(), McpError> {
        if self.shared.options.pass_through.allows(method) {
            Ok(())
        } else {
            tracing::info!(method = %toolgate_core::text::bounded(method, 128), "method refused: neither governed by policy nor configured to pass through");
            Err(McpError::new(ErrorCode::METHOD_NOT_FOUND, "method not found", None))
        }
    }

    /// A list (`tools/list`, `prompts/list`, `resources/list`) from the wrapped handler, with
    /// only what the caller may use, marked private (it depends on who asked), and audited.
    async fn list_filtered<L, Fut>(
        &self,
        method: &'static str,
        context: RequestContext<RoleServer>,
        list: impl FnOnce(RequestContext<RoleServer>) -> Fut,
    ) -> Result<L, McpError>
    where
        L: FilteredList,
        Fut: Future<Output = Result<L, McpError>>,
    {
        let started = Instant::now();
        let (caller, principal) = authenticated(&context)?;
        let span = caller.span(method, &context);
        async move {
            let mut result = self.upstream(list(context)).await?;
            let total = result.len();
            result.keep(self.shared.policy.as_ref(), &principal);
            result.mark_private();
            let event = caller
                .event(method, AuditDecision::Allow, AuditOutcome::Ok)
                .principal(&principal)
                .policy_set(self.shared.policy.policy_set_hash().as_deref())
                .reason(Some(&format!("listed {} of {total}", result.len())))
                .latency(started);
            self.record(event).await?;
            Ok(result)
        }
        .instrument(span)
        .await
    }

    async fn gated_call_tool(
        &self,
        mut request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, McpError> {
        let name = request.name.to_string();
        let mut members: Map<String, Value> = request.arguments.take().unwrap_or_default();
        if name.chars().count() <= MAX_NAME_CHARS {
            let removed = self.shared.policy.retain_declared(&name, &mut members);
            if !removed.is_empty() {
                tracing::debug!(tool = %name, removed = removed.len(), "undeclared arguments removed before the decision");
            }
        }
        let arguments = Value::Object(members);
        let inner = &self.inner;
        let decided = arguments.clone();
        self.decide_then(
            "tools/call",
            Item::Tool {
                name: &name,
                arguments: &arguments,
            },
            context,
            move |context| {
                // Exactly what the policies judged: the same members, not the request's.
                if let Value::Object(members) = decided {
                    request.arguments = Some(members);
                }
                inner.call_tool(request, context)
            },
            tool_outcome,
        )
        .await
    }
}

impl<H: ServerHandler> ServerHandler for Gate<H> {
    async fn list_tools(
        &self,
        request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, McpError> {
        let inner = &self.inner;
        self.list_filtered("tools/list", context, move |context| inner.list_tools(request, context))
            .await
    }

    fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> impl Future<Output = Result<CallToolResponse, McpError>> + MaybeSendFuture + '_ {
        self.gated_call_tool(request, context)
    }

    async fn list_prompts(
        &self,
        request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListPromptsResult, McpError> {
        let inner = &self.inner;
        self.list_filtered("prompts/list", context, move |context| {
            inner.list_prompts(request, context)
        })
        .await
    }

    async fn get_prompt(
        &self,
        request: GetPromptRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<GetPromptResponse, McpError> {
        let name = request.name.to_string();
        let inner = &self.inner;
        self.decide_then(
            "prompts/get",
            Item::Prompt { name: &name },
            context,
            move |context| inner.get_prompt(request, context),
            |result| result.outcome(),
        )
        .await
    }

    async fn list_resources(
        &self,
        request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, McpError> {
        let inner = &self.inner;
        self.list_filtered("resources/list", context, move |context| {
            inner.list_resources(request, context)
        })
        .await
    }

    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, McpError> {
        let uri = request.uri.to_string();
        let inner = &self.inner;
        self.decide_then(
            "resources/read",
            Item::Resource { uri: &uri },
            context,
            move |context| inner.read_resource(request, context),
            |result| result.outcome(),
        )
        .await
    }

    // The protocol's lifecycle: always forwarded.

    fn ping(
        &self,
        context: RequestContext<RoleServer>,
    ) -> impl Future<Output = Result<(), McpError>> + MaybeSendFuture + '_ {
        self.inner.ping(context)
    }

    fn initialize(
        &self,
        request: InitializeRequestParams,
        context: RequestContext<RoleServer>,
    ) -> impl Future<Output = Result<InitializeResult, McpError>> + MaybeSendFuture + '_ {
        self.inner.initialize(request, context)
    }

    fn negotiate_initialize(&self, request: &InitializeRequestParams) -> Result<InitializeResult, McpError> {
        self.inner.negotiate_initialize(request)
    }

    fn supported_protocol_versions(&self) -> Cow<'static, [ProtocolVersion]> {
        self.inner.supported_protocol_versions()
    }

    fn discover(
        &self,
        context: RequestContext<RoleServer>,
    ) -> impl Future<Output = Result<DiscoverResult, McpError>> + MaybeSendFuture + '_ {
        self.inner.discover(context)
    }

    // Decided like the item they are about.

    /// A completion reveals a prompt's or a resource's argument values: decided like getting
    /// the prompt or reading the resource.
    async fn complete(
        &self,
        request: CompleteRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CompleteResult, McpError> {
        // A reference kind this gate does not know is refused: nothing to decide on.
        let (key, is_prompt) = match &request.r#ref {
            Reference::Prompt(prompt) => (prompt.name.to_string(), true),
            Reference::Resource(resource) => (resource.uri.to_string(), false),
            _ => return Err(McpError::invalid_params("unsupported completion reference", None)),
        };
        let item = if is_prompt {
            Item::Prompt { name: &key }
        } else {
            Item::Resource { uri: &key }
        };
        let inner = &self.inner;
        self.decide_then(
            "completion/complete",
            item,
            context,
            move |context| inner.complete(request, context),
            |result| result.outcome(),
        )
        .await
    }

    /// Subscribing to a resource is decided like reading it (updates reveal it).
    #[allow(
        deprecated,
        reason = "rmcp deprecates resources/subscribe in favour of 2026-07-28 subscriptions; 2025 clients still send it"
    )]
    async fn subscribe(
        &self,
        request: SubscribeRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<(), McpError> {
        let uri = request.uri.to_string();
        let inner = &self.inner;
        self.decide_then(
            "resources/subscribe",
            Item::Resource { uri: &uri },
            context,
            move |context| inner.subscribe(request, context),
            |result| result.outcome(),
        )
        .await
    }

    #[allow(
        deprecated,
        reason = "rmcp deprecates resources/unsubscribe in favour of 2026-07-28 subscriptions; 2025 clients still send it"
    )]
    async fn unsubscribe(
        &self,
        request: UnsubscribeRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<(), McpError> {
        let uri = request.uri.to_string();
        let inner = &self.inner;
        self.decide_then(
            "resources/unsubscribe",
            Item::Resource { uri: &uri },
            context,
            move |context| inner.unsubscribe(request, context),
            |result| result.outcome(),
        )
        .await
    }

    // Forwarded only when listed in `pass_through`.

    #[allow(
        deprecated,
        reason = "rmcp deprecates logging (SEP-2577) for 2026-07-28; 2025 clients send logging/setLevel"
    )]
    async fn set_level(
        &self,
        request: SetLevelRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<(), McpError> {
        self.passing("logging/setLevel")?;
        self.inner.set_level(request, context).await
    }

    async fn list_resource_templates(
        &self,
        request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListResourceTemplatesResult, McpError> {
        self.passing("resources/templates/list")?;
        self.inner.list_resource_templates(request, context).await
    }

    fn accepted_subscription_filter(&self, requested: &SubscriptionFilter) -> Option<SubscriptionFilter> {
        self.inner.accepted_subscription_filter(requested)
    }

    async fn listen(&self, context: SubscriptionContext) -> Result<(), McpError> {
        self.passing("subscriptions/listen")?;
        self.inner.listen(context).await
    }

    fn get_tool(&self, name: &str) -> Option<Tool> {
        self.inner.get_tool(name)
    }

    async fn on_custom_request(
        &self,
        request: CustomRequest,
        context: RequestContext<RoleServer>,
    ) -> Result<CustomResult, McpError> {
        self.passing(&request.method)?;
        self.inner.on_custom_request(request, context).await
    }

    fn on_cancelled(
        &self,
        notification: CancelledNotificationParam,
        context: NotificationContext<RoleServer>,
    ) -> impl Future<Output = ()> + MaybeSendFuture + '_ {
        self.inner.on_cancelled(notification, context)
    }

    fn on_progress(
        &self,
        notification: ProgressNotificationParam,
        context: NotificationContext<RoleServer>,
    ) -> impl Future<Output = ()> + MaybeSendFuture + '_ {
        self.inner.on_progress(notification, context)
    }

    fn on_initialized(
        &self,
        context: NotificationContext<RoleServer>,
    ) -> impl Future<Output = ()> + MaybeSendFuture + '_ {
        self.inner.on_initialized(context)
    }

    fn on_roots_list_changed(
        &self,
        context: NotificationContext<RoleServer>,
    ) -> impl Future<Output = ()> + MaybeSendFuture + '_ {
        self.inner.on_roots_list_changed(context)
    }

    fn on_custom_notification(
        &self,
        notification: CustomNotification,
        context: NotificationContext<RoleServer>,
    ) -> impl Future<Output = ()> + MaybeSendFuture + '_ {
        self.inner.on_custom_notification(notification, context)
    }

    fn get_info(&self) -> ServerConfig {
        self.inner.get_info()
    }

    async fn get_task(
        &self,
        request: GetTaskParams,
        context: RequestContext<RoleServer>,
    ) -> Result<GetTaskResult, McpError> {
        self.passing("tasks/get")?;
        self.inner.get_task(request, context).await
    }

    async fn update_task(
        &self,
        request: UpdateTaskParams,
        context: RequestContext<RoleServer>,
    ) -> Result<(), McpError> {
        self.passing("tasks/update")?;
        self.inner.update_task(request, context).await
    }

    async fn cancel_task(
        &self,
        request: CancelTaskParams,
        context: RequestContext<RoleServer>,
    ) -> Result<(), McpError> {
        self.passing("tasks/cancel")?;
        self.inner.cancel_task(request, context).await
    }

    async fn list_skills(
        &self,
        request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListSkillsResult, McpError> {
        self.passing("skills/list")?;
        self.inner.list_skills(request, context).await
    }

    async fn get_skill(
        &self,
        request: GetSkillRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<GetSkillResult, McpError> {
        self.passing("skills/get")?;
        self.inner.get_skill(request, context).await
    }

    async fn read_resource_directory(
        &self,
        request: ReadResourceDirectoryRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<ReadResourceDirectoryResult, McpError> {
        self.passing("resources/directory/read")?;
        self.inner.read_resource_directory(request, context).await
    }
}
