//! The loaded, validated policy set and everything a decision needs, prepared once at load:
//! entity type names, action uids and the catalog's tool entities.

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;

use aws_lc_rs::digest;
use cedar_policy::{Authorizer, Entities, Entity, EntityId, EntityTypeName, EntityUid, RestrictedExpression};
use toolgate_core::{Catalog, CatalogItem, Decision, Effect, ToolDescriptor};

use crate::claims::ClaimMapping;
use crate::declared::DeclaredShape;
use crate::error::{PolicyError, PolicyProblem};
use crate::index::{PolicyIndex, Resource, Slice, Slices, Subsets, Target};
use crate::input_type::InputType;
use crate::loader::{PolicySource, build_policy_set, read_dir};
use crate::schema::{GeneratedSchema, annotation_values, generate_schema};

/// Where policies come from and how they are enforced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyConfig {
    /// Directory holding the `*.cedar` files (not recursive).
    pub policy_dir: PathBuf,
    /// Log-only mode: every request is let through, denials are only recorded.
    pub shadow: bool,
    pub claims: ClaimMapping,
}

/// Entity type names and action uids, parsed once.
#[derive(Debug, Clone)]
pub(crate) struct Names {
    pub user: EntityTypeName,
    pub app: EntityTypeName,
    pub role: EntityTypeName,
    pub group: EntityTypeName,
    pub list: EntityUid,
    pub prompt: EntityTypeName,
    pub mcp_resource: EntityTypeName,
    pub server: EntityTypeName,
    pub get_prompt: EntityUid,
    pub read_resource: EntityUid,
}

/// One catalog tool, ready for requests.
#[derive(Debug, Clone)]
pub(crate) struct ToolEntry {
    pub name: String,
    pub uid: EntityUid,
    pub entity: Entity,
    pub action: EntityUid,
    pub input: InputType,
    /// What the tool declares it takes (undeclared members are removed before deciding).
    pub declared: DeclaredShape,
    /// The policies that can apply to a call of this tool (see [`crate::index`]).
    pub call_policies: Slices,
    /// The policies that can apply to `Action::"list"` on this tool.
    pub list_policies: Arc<Slice>,
    /// The tool and its call action: the entities of a call, but the principal.
    pub call_entities: Entities,
    /// The same and `Action::"list"`: the entities of a list question, but the principal.
    pub list_entities: Entities,
    /// Tools of one shape get the same list decisions (see [`Slice::is_identity_free`]).
    pub shape: usize,
}

/// Validated policies over a generated schema; answers call and list questions.
#[derive(Debug)]
pub struct PolicyEngine {
    pub(crate) schema: GeneratedSchema,
    pub(crate) shadow: bool,
    pub(crate) claims: ClaimMapping,
    pub(crate) hash: String,
    pub(crate) names: Names,
    pub(crate) tools: Vec<ToolEntry>,
    pub(crate) by_name: HashMap<String, usize>,
    pub(crate) authorizer: Authorizer,
    /// The policies that can apply to `get_prompt` / `read_resource` (any resource).
    pub(crate) prompt_policies: Slices,
    pub(crate) resource_policies: Slices,
    /// Ids of the policies in shadow mode (`@mode("shadow")`).
    pub(crate) shadow_ids: HashSet<String>,
    /// Slices narrowed by principal scope, built on first use (bounded).
    pub(crate) subsets: Subsets,
    /// How many tool shapes the catalog has.
    pub(crate) shape_count: usize,
    policy_ids: Vec<String>,
    /// The server of each catalog prompt / resource (their parent entity).
    pub(crate) prompt_servers: HashMap<String, String>,
    pub(crate) resource_servers: HashMap<String, String>,
    /// The literal prefix of each resource template, with its server.
    pub(crate) template_servers: Vec<(String, String)>,
    /// The policy texts, to rebuild against a new catalog.
    sources: Vec<PolicySource>,
}

pub(crate) fn internal(message: String) -> PolicyError {
    PolicyError::Invalid {
        problems: vec![PolicyProblem {
            file: String::new(),
            line: 0,
            col: 0,
            message,
        }],
    }
}

fn type_name(s: &str) -> Result<EntityTypeName, PolicyError> {
    EntityTypeName::from_str(s).map_err(|e| internal(format!("entity type {s}: {e}")))
}

pub(crate) fn uid(ty: &EntityTypeName, id: &str) -> EntityUid {
    EntityUid::from_type_name_and_id(ty.clone(), EntityId::new(id))
}

impl PolicyEngine {
    /// Loads every `*.cedar` file of `config.policy_dir` (sorted by name) against the schema
    /// generated from `catalog`.
    pub fn load(config: &PolicyConfig, catalog: &[ToolDescriptor]) -> Result<Self, PolicyError> {
        Self::load_catalog(config, &Catalog::of_tools(catalog.to_vec()))
    }

    /// [`load`](Self::load) against a whole catalog (tools, prompts and resources with their
    /// servers).
    pub fn load_catalog(config: &PolicyConfig, catalog: &Catalog) -> Result<Self, PolicyError> {
        let sources = read_dir(&config.policy_dir)?;
        if sources.is_empty() {
            tracing::warn!(dir = %config.policy_dir.display(), "no *.cedar policy files: every request will be denied");
        }
        Self::from_catalog(&sources, catalog, config.shadow, config.claims.clone())
    }

    pub fn from_sources(
        sources: &[PolicySource],
        catalog: &[ToolDescriptor],
        shadow: bool,
        claims: ClaimMapping,
    ) -> Result<Self, PolicyError> {
        Self::from_catalog(sources, &Catalog::of_tools(catalog.to_vec()), shadow, claims)
    }

    /// Policies `sources` validated against the schema generated from `whole`.
    pub fn from_catalog(
        sources: &[PolicySource],
        whole: &Catalog,
        shadow: bool,
        claims: ClaimMapping,
    ) -> Result<Self, PolicyError> {
        let catalog = whole.tools.as_slice();
        let schema = generate_schema(catalog, &claims)?;
        let loaded = build_policy_set(sources, schema.schema())?;
        let policies = &loaded.set;
        if policies.is_empty() {
            tracing::warn!("the policy set is empty: every request will be denied");
        }
        let mut policy_ids: Vec<String> = policies.policies().map(|p| p.id().to_string()).collect();
        policy_ids.sort();

        let action_ty = type_name("Action")?;
        let tool_ty = type_name("Tool")?;
        let names = Names {
            user: type_name("User")?,
            app: type_name("App")?,
            role: type_name("Role")?,
            group: type_name("Group")?,
            list: uid(&action_ty, "list"),
            prompt: type_name("Prompt")?,
            mcp_resource: type_name("McpResource")?,
            server: type_name("Server")?,
            get_prompt: uid(&action_ty, "get_prompt"),
            read_resource: uid(&action_ty, "read_resource"),
        };
        let call_group = uid(&action_ty, "call");
        let list_entity = Entity::new_no_attrs(names.list.clone(), HashSet::new());
        let mut index = PolicyIndex::new(policies, &loaded.shadow);

        let mut tools = Vec::with_capacity(catalog.len());
        let mut shapes: HashMap<String, usize> = HashMap::new();
        let mut by_name = HashMap::with_capacity(catalog.len());
        for (t, input) in catalog.iter().zip(schema.inputs()) {
            let tool_uid = uid(&tool_ty, &t.name);
            let mut attrs: HashMap<String, RestrictedExpression> = HashMap::with_capacity(6);
            attrs.insert("name".into(), RestrictedExpression::new_string(t.name.clone()));
            attrs.insert(
                "tags".into(),
                RestrictedExpression::new_set(t.tags.iter().map(|s| RestrictedExpression::new_string(s.clone()))),
            );
            for (k, v) in annotation_values(t) {
                attrs.insert(k.into(), RestrictedExpression::new_bool(v));
            }
            let servers: Vec<EntityUid> = t.server.iter().map(|s| uid(&names.server, s)).collect();
            let parents: HashSet<EntityUid> = servers.iter().cloned().collect();
            let entity =
                Entity::new(tool_uid.clone(), attrs, parents).map_err(|e| internal(format!("tool {}: {e}", t.name)))?;
            let action = uid(&action_ty, &format!("call:{}", t.name));
            let call_parents = [call_group.clone()];
            let action_entity = Entity::new_no_attrs(action.clone(), call_parents.iter().cloned().collect());
            // The ancestors below are exactly the parents given to these entities: servers and
            // the call group have no parents of their own in the entities handed to Cedar.
            let call_policies = index.slices(&Target {
                action: &action,
                action_ancestors: &call_parents,
                resource: Resource::Known(&tool_uid, &servers),
            })?;
            // Lists are decided by the enforced policies alone.
            let list_policies = index
                .slices(&Target {
                    action: &names.list,
                    action_ancestors: &[],
                    resource: Resource::Known(&tool_uid, &servers),
                })?
                .enforced;
            let call_entities = Entities::from_entities([entity.clone(), action_entity], None)
                .map_err(|e| internal(format!("tool {}: {e}", t.name)))?;
            let list_entities = call_entities
                .clone()
                .add_entities([list_entity.clone()], None)
                .map_err(|e| internal(format!("tool {}: {e}", t.name)))?;
            let shape_key = if call_policies.enforced.is_identity_free() && list_policies.is_identity_free() {
                serde_json::json!([
                    call_policies.enforced.id(),
                    list_policies.id(),
                    t.tags,
                    annotation_values(t),
                    t.server
                ])
                .to_string()
            } else {
                format!("tool\0{}", t.name)
            };
            let next_shape = shapes.len();
            let shape = *shapes.entry(shape_key).or_insert(next_shape);
            by_name.insert(t.name.clone(), tools.len());
            tools.push(ToolEntry {
                name: t.name.clone(),
                uid: tool_uid,
                entity,
                action,
                input: input.clone(),
                declared: DeclaredShape::of_schema(&t.input_schema),
                call_policies,
                list_policies,
                call_entities,
                list_entities,
                shape,
            });
        }
        let prompt_policies = index.slices(&Target {
            action: &names.get_prompt,
            action_ancestors: &[],
            resource: Resource::OfType(&names.prompt),
        })?;
        let resource_policies = index.slices(&Target {
            action: &names.read_resource,
            action_ancestors: &[],
            resource: Resource::OfType(&names.mcp_resource),
        })?;
        let hash = hash_of(schema.text(), sources, whole);
        let servers_of = |items: &[CatalogItem]| -> HashMap<String, String> {
            items
                .iter()
                .filter_map(|i| i.server.clone().map(|s| (i.name.clone(), s)))
                .collect()
        };
        Ok(Self {
            prompt_servers: servers_of(&whole.prompts),
            resource_servers: servers_of(&whole.resources),
            template_servers: whole
                .resource_templates
                .iter()
                .filter_map(|t| {
                    let literal = t.name.split('{').next().unwrap_or_default();
                    let server = t.server.clone()?;
                    (!literal.is_empty()).then(|| (literal.to_owned(), server))
                })
                .collect(),
            sources: sources.to_vec(),
            schema,
            shadow,
            claims,
            hash,
            names,
            tools,
            by_name,
            authorizer: Authorizer::new(),
            prompt_policies,
            resource_policies,
            subsets: Subsets::default(),
            shadow_ids: loaded.shadow,
            shape_count: shapes.len(),
            policy_ids,
        })
    }

    /// This engine with every slice replaced by the whole set: what Cedar would decide without
    /// the index, for the differential tests.
    #[cfg(test)]
    pub(crate) fn unsliced(mut self) -> Self {
        let loaded = build_policy_set(&self.sources, self.schema.schema()).unwrap_or_else(|e| panic!("{e}"));
        let all: Vec<_> = loaded.set.policies().cloned().collect();
        let enforced: Vec<_> = all
            .iter()
            .filter(|p| !loaded.shadow.contains(&p.id().to_string()))
            .cloned()
            .collect();
        let slices = Slices {
            enforced: Slice::whole(enforced),
            with_shadow: (!loaded.shadow.is_empty()).then(|| Slice::whole(all)),
        };
        for t in &mut self.tools {
            t.call_policies = slices.clone();
            t.list_policies = Arc::clone(&slices.enforced);
        }
        self.prompt_policies = slices.clone();
        self.resource_policies = slices;
        self
    }

    /// Hex SHA-256 over the schema text and every file's name and text, in order.
    pub fn policy_set_hash(&self) -> &str {
        &self.hash
    }

    /// The generated schema in Cedar's format (`toolgate policy schema`).
    pub fn schema_text(&self) -> &str {
        self.schema.text()
    }

    pub fn schema(&self) -> &GeneratedSchema {
        &self.schema
    }

    /// How many tools the engine knows.
    pub fn tool_count(&self) -> usize {
        self.tools.len()
    }

    /// Whether `other` was built from the same catalog (tool entities, what tools declare,
    /// the servers of prompts and resources).
    pub(crate) fn same_catalog(&self, other: &Self) -> bool {
        self.tools.len() == other.tools.len()
            && self
                .tools
                .iter()
                .zip(&other.tools)
                .all(|(a, b)| a.entity == b.entity && a.declared == b.declared)
            && self.prompt_servers == other.prompt_servers
            && self.resource_servers == other.resource_servers
            && self.template_servers == other.template_servers
    }

    /// The server of a resource: the one that listed it, else the one whose template's literal
    /// prefix is the longest match.
    pub(crate) fn resource_server(&self, uri: &str) -> Option<&str> {
        if let Some(server) = self.resource_servers.get(uri) {
            return Some(server);
        }
        self.template_servers
            .iter()
            .filter(|(literal, _)| uri.starts_with(literal.as_str()))
            .max_by_key(|(literal, _)| literal.len())
            .map(|(_, server)| server.as_str())
    }

    /// The policy sources this engine was built from.
    pub fn sources(&self) -> &[PolicySource] {
        &self.sources
    }

    /// The claim mapping this engine was built with.
    pub fn claims(&self) -> &ClaimMapping {
        &self.claims
    }

    /// Ids of every loaded policy, sorted.
    pub fn policy_ids(&self) -> &[String] {
        &self.policy_ids
    }

    pub fn is_shadow(&self) -> bool {
        self.shadow
    }

    pub(crate) fn tool(&self, name: &str) -> Option<&ToolEntry> {
        self.by_name.get(name).and_then(|i| self.tools.get(*i))
    }

    /// A decision stamped with this engine's hash and shadow mode.
    pub(crate) fn decision(&self, effect: Effect, determining: Vec<String>, errors: Vec<String>) -> Decision {
        Decision::new(effect == Effect::Allow, determining, errors, self.hash.clone()).in_shadow_mode(self.shadow)
    }

    pub(crate) fn deny_with_error(&self, error: String) -> Decision {
        self.decision(Effect::Deny, Vec::new(), vec![error])
    }
}

/// Covers everything a decision depends on besides the request: the schema, every policy file,
/// and the catalog's entity data (tags, annotations, servers) that the schema does not show.
fn hash_of(schema_text: &str, sources: &[PolicySource], catalog: &Catalog) -> String {
    let mut ctx = digest::Context::new(&digest::SHA256);
    ctx.update(schema_text.as_bytes());
    for s in sources {
        ctx.update(b"\0");
        ctx.update(s.name.as_bytes());
        ctx.update(b"\0");
        ctx.update(s.text.as_bytes());
    }
    for t in &catalog.tools {
        let data = serde_json::json!([t.name, t.tags, t.annotations, t.server]);
        ctx.update(b"\0");
        ctx.update(data.to_string().as_bytes());
    }
    for item in catalog
        .prompts
        .iter()
        .chain(&catalog.resources)
        .chain(&catalog.resource_templates)
    {
        ctx.update(b"\0");
        ctx.update(serde_json::json!([item.name, item.server]).to_string().as_bytes());
    }
    let d = ctx.finish();
    let mut out = String::with_capacity(64);
    for b in d.as_ref() {
        // Writing into a String cannot fail.
        let _ = write!(out, "{b:02x}");
    }
    out
}
