//! Prompts and resources: may this caller get this prompt, read this resource? (Listing shows
//! exactly those the caller may get or read: they have no arguments to depend on.)

use std::collections::{HashMap, HashSet};

use cedar_policy::{Context, Entities, Entity, EntityTypeName, EntityUid, Request, RestrictedExpression};
use toolgate_core::{Decision, Principal};

use crate::engine::{PolicyEngine, uid};
use crate::index::Slices;

impl PolicyEngine {
    /// May `principal` get the prompt `name` (and see it in prompts/list)?
    pub fn authorize_prompt(&self, principal: &Principal, name: &str) -> Decision {
        let names = &self.names;
        let server = self.prompt_servers.get(name).map(String::as_str);
        let policies = &self.prompt_policies;
        self.authorize_named(
            principal,
            &names.prompt,
            "name",
            name,
            server,
            &names.get_prompt,
            policies,
        )
    }

    /// May `principal` read the resource `uri` (and see it in resources/list)?
    pub fn authorize_resource(&self, principal: &Principal, uri: &str) -> Decision {
        let names = &self.names;
        let server = self.resource_server(uri);
        let policies = &self.resource_policies;
        self.authorize_named(
            principal,
            &names.mcp_resource,
            "uri",
            uri,
            server,
            &names.read_resource,
            policies,
        )
    }

    #[allow(clippy::too_many_arguments)]
    fn authorize_named(
        &self,
        principal: &Principal,
        ty: &EntityTypeName,
        attribute: &str,
        value: &str,
        server: Option<&str>,
        action: &EntityUid,
        policies: &Slices,
    ) -> Decision {
        let principal = match self.prepare_principal(principal) {
            Ok(p) => p,
            Err(e) => return self.deny_with_error(e),
        };
        let resource = uid(ty, value);
        let attrs = HashMap::from([(attribute.to_owned(), RestrictedExpression::new_string(value.to_owned()))]);
        let parents: HashSet<EntityUid> = server.iter().map(|s| uid(&self.names.server, s)).collect();
        let entity = match Entity::new(resource.clone(), attrs, parents) {
            Ok(e) => e,
            Err(e) => return self.deny_with_error(format!("cannot build the {ty} entity: {e}")),
        };
        let request = match Request::new(
            principal.uid().clone(),
            action.clone(),
            resource,
            Context::empty(),
            Some(self.schema.schema()),
        ) {
            Ok(r) => r,
            Err(e) => return self.deny_with_error(format!("invalid request: {e}")),
        };
        let action_entity = Entity::new_no_attrs(action.clone(), HashSet::new());
        let entities = match Entities::from_entities([principal.entity().clone(), entity, action_entity], None) {
            Ok(e) => e,
            Err(e) => return self.deny_with_error(format!("cannot build entities: {e}")),
        };
        self.decide(&request, &entities, &principal, policies)
    }
}
