//! [`Gate`]: an rmcp `ServerHandler` that wraps another and puts policy and audit in front of
//! its tools. Everything else is forwarded untouched.

use std::borrow::Cow;
use std::future::Future;
use std::sync::Arc;
use std::time::Instant;

use rmcp::model::*;
use rmcp::service::{MaybeSendFuture, NotificationContext, RequestContext, SubscriptionContext};
use rmcp::{ErrorData as McpError, RoleServer, ServerHandler};
use serde_json::Value;
use toolgate_audit::ArgumentCapture;
use toolgate_core::{AuditSink, ToolPolicy};

use crate::caller::Caller;
use crate::catalog::ToolTags;
use crate::denial::{DenialStyle, unauthenticated};
use crate::record::Record;

/// How the gate behaves.
#[derive(Debug, Clone, Default)]
pub struct GateOptions {
    pub denial: DenialStyle,
    /// What of the arguments is kept in audit rows (the digest is always kept).
    pub capture: ArgumentCapture,
    pub tool_tags: ToolTags,
}

/// What every gated session shares: the policy, the audit sink, the options.
pub struct GateShared {
    pub policy: Arc<dyn ToolPolicy>,
    pub audit: Arc<dyn AuditSink>,
    pub options: GateOptions,
}

/// Wraps an rmcp server handler. Cheap to create per session: the shared part is an `Arc`.
pub struct Gate<H> {
    inner: H,
    shared: Arc<GateShared>,
}

impl<H: ServerHandler> Gate<H> {
    pub fn new(inner: H, shared: Arc<GateShared>) -> Self {
        Self { inner, shared }
    }

    pub fn inner(&self) -> &H {
        &self.inner
    }

    async fn record(&self, event: toolgate_core::AuditEvent) -> Result<(), McpError> {
        self.shared.audit.record(event).await.map_err(|unavailable| {
            tracing::error!(%unavailable, "audit trail unavailable: refusing the request (fail closed)");
            McpError::internal_error("audit trail unavailable", None)
        })
    }

    async fn gated_list_tools(
        &self,
        request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, McpError> {
        let started = Instant::now();
        let caller = Caller::of(&context);
        let Some(principal) = caller.principal.clone() else {
            return Err(unauthenticated());
        };
        let mut result = self.inner.list_tools(request, context).await?;
        let total = result.tools.len();
        let mut policy_set_hash = None;
        result.tools.retain(|tool| {
            let decision = self.shared.policy.authorize_list(&principal, &tool.name);
            policy_set_hash.get_or_insert_with(|| decision.policy_set_hash.clone());
            decision.is_allowed()
        });
        // The list depends on who asked: never let it be shared.
        result.cache_scope = Some(CacheScope::Private);
        let record = Record {
            caller: &caller,
            principal: &principal,
            method: "tools/list",
            tool: None,
            started,
        };
        let reason = format!("listed {} of {total}", result.tools.len());
        let mut event = record.event(None, None, "ok", Some(reason));
        event.policy_set_hash = policy_set_hash;
        self.record(event).await?;
        Ok(result)
    }

    async fn gated_call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, McpError> {
        let started = Instant::now();
        let caller = Caller::of(&context);
        let Some(principal) = caller.principal.clone() else {
            return Err(unauthenticated());
        };
        let name = request.name.to_string();
        let arguments = Value::Object(request.arguments.clone().unwrap_or_default());
        let decision = self.shared.policy.authorize_call(&principal, &name, &arguments);
        let record = Record {
            caller: &caller,
            principal: &principal,
            method: "tools/call",
            tool: Some(&name),
            started,
        };
        let captured = Some((&arguments, &self.shared.options.capture));
        if !decision.is_allowed() {
            tracing::info!(tool = %name, policies = ?decision.determining_policies, errors = ?decision.errors, "tool call denied");
            self.record(record.event(Some(&decision), captured, "denied", Some("policy_deny".into())))
                .await?;
            return Err(self.shared.options.denial.error(&name));
        }
        if decision.is_shadow_deny() {
            tracing::warn!(tool = %name, policies = ?decision.determining_policies, "shadow mode: policy would deny this call");
        }
        let result = self.inner.call_tool(request, context).await;
        let (outcome, reason) = match &result {
            Ok(CallToolResponse::Complete(r)) if r.is_error == Some(true) => ("tool_error", None),
            Ok(_) => ("ok", None),
            Err(error) => ("error", Some(format!("mcp_error_{}", error.code.0))),
        };
        let reason = reason.or_else(|| decision.is_shadow_deny().then(|| "shadow_would_deny".to_owned()));
        self.record(record.event(Some(&decision), captured, outcome, reason))
            .await?;
        result
    }

    /// prompts/get and resources/read: decided by policy on the prompt name or resource URI,
    /// audited, and refused like a missing item.
    async fn gated_named<T>(
        &self,
        method: &'static str,
        item: &str,
        context: RequestContext<RoleServer>,
        decide: impl FnOnce(&dyn ToolPolicy, &toolgate_core::Principal) -> toolgate_core::Decision,
        refuse: impl FnOnce() -> McpError,
        call: impl Future<Output = Result<T, McpError>>,
    ) -> Result<T, McpError> {
        let started = Instant::now();
        let caller = Caller::of(&context);
        let Some(principal) = caller.principal.clone() else {
            return Err(unauthenticated());
        };
        let decision = decide(self.shared.policy.as_ref(), &principal);
        let record = Record {
            caller: &caller,
            principal: &principal,
            method,
            tool: Some(item),
            started,
        };
        if !decision.is_allowed() {
            self.record(record.event(Some(&decision), None, "denied", Some("policy_deny".into())))
                .await?;
            return Err(refuse());
        }
        let result = call.await;
        let outcome = if result.is_ok() { "ok" } else { "error" };
        let reason = decision.is_shadow_deny().then(|| "shadow_would_deny".to_owned());
        self.record(record.event(Some(&decision), None, outcome, reason))
            .await?;
        result
    }

    /// Audits a filtered prompts/list or resources/list.
    async fn record_list(
        &self,
        method: &'static str,
        caller: &Caller,
        principal: &toolgate_core::Principal,
        started: Instant,
        shown: usize,
        total: usize,
    ) -> Result<(), McpError> {
        let record = Record {
            caller,
            principal,
            method,
            tool: None,
            started,
        };
        self.record(record.event(None, None, "ok", Some(format!("listed {shown} of {total}"))))
            .await
    }
}

#[allow(deprecated)]
impl<H: ServerHandler> ServerHandler for Gate<H> {
    fn list_tools(
        &self,
        request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> impl Future<Output = Result<ListToolsResult, McpError>> + MaybeSendFuture + '_ {
        self.gated_list_tools(request, context)
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
        let started = Instant::now();
        let caller = Caller::of(&context);
        let Some(principal) = caller.principal.clone() else {
            return Err(unauthenticated());
        };
        let mut result = self.inner.list_prompts(request, context).await?;
        let total = result.prompts.len();
        result
            .prompts
            .retain(|p| self.shared.policy.authorize_prompt(&principal, &p.name).is_allowed());
        result.cache_scope = Some(CacheScope::Private);
        self.record_list(
            "prompts/list",
            &caller,
            &principal,
            started,
            result.prompts.len(),
            total,
        )
        .await?;
        Ok(result)
    }

    fn get_prompt(
        &self,
        request: GetPromptRequestParams,
        context: RequestContext<RoleServer>,
    ) -> impl Future<Output = Result<GetPromptResponse, McpError>> + MaybeSendFuture + '_ {
        let name = request.name.to_string();
        let inner_context = context.clone();
        async move {
            let denial = self.shared.options.denial;
            self.gated_named(
                "prompts/get",
                &name,
                context,
                |policy, principal| policy.authorize_prompt(principal, &name),
                || denial.prompt_error(&name),
                self.inner.get_prompt(request, inner_context),
            )
            .await
        }
    }

    async fn list_resources(
        &self,
        request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, McpError> {
        let started = Instant::now();
        let caller = Caller::of(&context);
        let Some(principal) = caller.principal.clone() else {
            return Err(unauthenticated());
        };
        let mut result = self.inner.list_resources(request, context).await?;
        let total = result.resources.len();
        result
            .resources
            .retain(|r| self.shared.policy.authorize_resource(&principal, &r.uri).is_allowed());
        result.cache_scope = Some(CacheScope::Private);
        self.record_list(
            "resources/list",
            &caller,
            &principal,
            started,
            result.resources.len(),
            total,
        )
        .await?;
        Ok(result)
    }

    fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        context: RequestContext<RoleServer>,
    ) -> impl Future<Output = Result<ReadResourceResponse, McpError>> + MaybeSendFuture + '_ {
        let uri = request.uri.to_string();
        let inner_context = context.clone();
        async move {
            let denial = self.shared.options.denial;
            self.gated_named(
                "resources/read",
                &uri,
                context,
                |policy, principal| policy.authorize_resource(principal, &uri),
                || denial.resource_error(&uri),
                self.inner.read_resource(request, inner_context),
            )
            .await
        }
    }

    // Everything below is forwarded unchanged.

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

    fn complete(
        &self,
        request: CompleteRequestParams,
        context: RequestContext<RoleServer>,
    ) -> impl Future<Output = Result<CompleteResult, McpError>> + MaybeSendFuture + '_ {
        self.inner.complete(request, context)
    }

    fn set_level(
        &self,
        request: SetLevelRequestParams,
        context: RequestContext<RoleServer>,
    ) -> impl Future<Output = Result<(), McpError>> + MaybeSendFuture + '_ {
        self.inner.set_level(request, context)
    }

    fn list_resource_templates(
        &self,
        request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> impl Future<Output = Result<ListResourceTemplatesResult, McpError>> + MaybeSendFuture + '_ {
        self.inner.list_resource_templates(request, context)
    }

    fn accepted_subscription_filter(&self, requested: &SubscriptionFilter) -> Option<SubscriptionFilter> {
        self.inner.accepted_subscription_filter(requested)
    }

    fn listen(
        &self,
        context: SubscriptionContext,
    ) -> impl Future<Output = Result<(), McpError>> + MaybeSendFuture + '_ {
        self.inner.listen(context)
    }

    fn subscribe(
        &self,
        request: SubscribeRequestParams,
        context: RequestContext<RoleServer>,
    ) -> impl Future<Output = Result<(), McpError>> + MaybeSendFuture + '_ {
        self.inner.subscribe(request, context)
    }

    fn unsubscribe(
        &self,
        request: UnsubscribeRequestParams,
        context: RequestContext<RoleServer>,
    ) -> impl Future<Output = Result<(), McpError>> + MaybeSendFuture + '_ {
        self.inner.unsubscribe(request, context)
    }

    fn get_tool(&self, name: &str) -> Option<Tool> {
        self.inner.get_tool(name)
    }

    fn on_custom_request(
        &self,
        request: CustomRequest,
        context: RequestContext<RoleServer>,
    ) -> impl Future<Output = Result<CustomResult, McpError>> + MaybeSendFuture + '_ {
        self.inner.on_custom_request(request, context)
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

    fn get_task(
        &self,
        request: GetTaskParams,
        context: RequestContext<RoleServer>,
    ) -> impl Future<Output = Result<GetTaskResult, McpError>> + MaybeSendFuture + '_ {
        self.inner.get_task(request, context)
    }

    fn update_task(
        &self,
        request: UpdateTaskParams,
        context: RequestContext<RoleServer>,
    ) -> impl Future<Output = Result<(), McpError>> + MaybeSendFuture + '_ {
        self.inner.update_task(request, context)
    }

    fn cancel_task(
        &self,
        request: CancelTaskParams,
        context: RequestContext<RoleServer>,
    ) -> impl Future<Output = Result<(), McpError>> + MaybeSendFuture + '_ {
        self.inner.cancel_task(request, context)
    }

    fn list_skills(
        &self,
        request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> impl Future<Output = Result<ListSkillsResult, McpError>> + MaybeSendFuture + '_ {
        self.inner.list_skills(request, context)
    }

    fn get_skill(
        &self,
        request: GetSkillRequestParams,
        context: RequestContext<RoleServer>,
    ) -> impl Future<Output = Result<GetSkillResult, McpError>> + MaybeSendFuture + '_ {
        self.inner.get_skill(request, context)
    }

    fn read_resource_directory(
        &self,
        request: ReadResourceDirectoryRequestParams,
        context: RequestContext<RoleServer>,
    ) -> impl Future<Output = Result<ReadResourceDirectoryResult, McpError>> + MaybeSendFuture + '_ {
        self.inner.read_resource_directory(request, context)
    }
}
