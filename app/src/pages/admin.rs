//! The admin page at `/admin`: links to the report templates and to creating a project; accounts (create, change role and projects, reset the password,
//! deactivate) and API tokens (create with a role and projects, revoke). Generated passwords and new
//! tokens are shown once, in a banner, and never again. Everything here is refused by the server to
//! anyone but an admin; a non-admin who opens the page gets a 403 page.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

use crate::account::{
    limits, Account, AccountChange, AdminOverview, ApiTokenInfo, IssuedSecret, NewAccount,
    NewApiToken, ProjectRef,
};
use crate::api::{
    create_account, create_api_token, get_admin_overview, reset_password, revoke_api_token,
    update_account,
};
use crate::calendar::Date;
use crate::components::{ErrorNotice, Skeleton};
use crate::error::AppError;
use crate::model::Role;

/// A secret to show once, with what it is for.
#[derive(Debug, Clone, PartialEq)]
struct Shown {
    what: &'static str,
    issued: IssuedSecret,
}

/// The admin page.
#[component]
pub fn AdminPage() -> impl IntoView {
    let version = RwSignal::new(0u32);
    let overview = Resource::new(move || version.get(), |_| get_admin_overview());
    let shown = RwSignal::new(None::<Shown>);
    let refresh = Callback::new(move |()| version.update(|v| *v += 1));
    view! {
        <Title text="Administration"/>
        <div class="page-head">
            <h1>"Administration"</h1>
            <div class="form-actions">
                <A href="/admin/templates" attr:class="button">"Report templates"</A>
                <A href="/admin/projects/new" attr:class="button">"New project"</A>
            </div>
        </div>
        <SecretBanner shown/>
        <Transition fallback=|| view! { <Skeleton lines=8 label="Loading accounts"/> }>
            <ErrorBoundary fallback=|errors| view! { <ErrorNotice errors/> }>
                {move || Suspend::new(async move {
                    overview.await.map(|overview| view! { <Panels overview shown refresh/> })
                })}
            </ErrorBoundary>
        </Transition>
    }
}

/// The generated password or new token, until dismissed.
#[component]
fn SecretBanner(shown: RwSignal<Option<Shown>>) -> impl IntoView {
    let banner = NodeRef::<leptos::html::Div>::new();
    // A new secret is usually made far down the page: bring it into view.
    Effect::new(move |_| {
        if shown.read().is_some() {
            request_animation_frame(move || {
                if let Some(el) = banner.get_untracked() {
                    el.scroll_into_view();
                }
            });
        }
    });
    move || {
        shown.get().map(|s| {
            view! {
                <div class="notice notice--secret" role="status" data-testid="secret" node_ref=banner>
                    <p>
                        <strong>{s.what} " for " {s.issued.subject.clone()} ": "</strong>
                        <code class="secret" data-testid="secret-value">{s.issued.secret.clone()}</code>
                    </p>
                    <p class="muted">"Copy it now: it is shown only this once and cannot be recovered."</p>
                    <button type="button" class="button" on:click=move |_| shown.set(None)>"Done"</button>
                </div>
            }
        })
    }
}

/// Accounts and tokens, each with its creation form.
#[component]
fn Panels(
    overview: AdminOverview,
    shown: RwSignal<Option<Shown>>,
    refresh: Callback<()>,
) -> impl IntoView {
    let projects = StoredValue::new(overview.projects.clone());
    let active_tokens = overview
        .tokens
        .iter()
        .filter(|t| t.revoked_at.is_none())
        .count();
    view! {
        <section class="admin-section" aria-labelledby="accounts-title">
            <div class="admin-section__head">
                <h2 id="accounts-title">"Accounts"</h2>
                <span class="muted">{format!("{} accounts", overview.accounts.len())}</span>
            </div>
            <ul class="account-list" aria-label="Accounts">
                {overview.accounts.into_iter().map(|account| view! {
                    <AccountItem account projects=projects.get_value() shown refresh/>
                }).collect_view()}
            </ul>
            <NewAccountForm projects=projects.get_value() shown refresh/>
        </section>
        <section class="admin-section" aria-labelledby="tokens-title">
            <div class="admin-section__head">
                <h2 id="tokens-title">"API tokens"</h2>
                <span class="muted">{format!("{active_tokens} active")}</span>
            </div>
            <p class="muted">
                "For scripts and monitoring tools: send " <code>"Authorization: Bearer <token>"</code>
                " to the REST API. Viewer and editor tokens reach only the projects chosen here."
            </p>
            <TokenTable tokens=overview.tokens projects=projects.get_value() refresh/>
            <NewTokenForm projects=projects.get_value() shown refresh/>
        </section>
    }
}

/// Project codes for a list of ids, e.g. "CDW, HBR", or a word when there are none.
fn codes(ids: &[i64], projects: &[ProjectRef], role: Role) -> String {
    if role == Role::Admin {
        return "All projects".into();
    }
    let list: Vec<&str> = projects
        .iter()
        .filter(|p| ids.contains(&p.id))
        .map(|p| p.code.as_str())
        .collect();
    if list.is_empty() {
        "No projects".into()
    } else {
        list.join(", ")
    }
}

/// Checkboxes choosing projects.
#[component]
fn ProjectPicker(
    projects: Vec<ProjectRef>,
    chosen: RwSignal<Vec<i64>>,
    #[prop(into)] legend: String,
) -> impl IntoView {
    view! {
        <fieldset class="project-picker">
            <legend>{legend}</legend>
            {projects.into_iter().map(|p| {
                let id = p.id;
                view! {
                    <label class="check">
                        <input type="checkbox"
                            prop:checked=move || chosen.read().contains(&id)
                            on:change=move |ev| {
                                let on = event_target_checked(&ev);
                                chosen.update(|c| {
                                    c.retain(|x| *x != id);
                                    if on { c.push(id); }
                                });
                            }/>
                        <span><strong>{p.code}</strong> " " {p.name}</span>
                    </label>
                }
            }).collect_view()}
        </fieldset>
    }
}

/// A role choice.
#[component]
fn RoleSelect(role: RwSignal<Role>, #[prop(into)] label: String) -> impl IntoView {
    view! {
        <label class="field">
            <span class="field__label">{label}</span>
            <select
                prop:value=move || role.get().as_str()
                on:change=move |ev| {
                    if let Ok(r) = event_target_value(&ev).parse() { role.set(r); }
                }>
                <option value="viewer">"Viewer: reads reports"</option>
                <option value="editor">"Editor: also edits reports"</option>
                <option value="admin">"Admin: everything, all projects"</option>
            </select>
        </label>
    }
}

/// The message of a finished action: its error, or a success text.
fn outcome<T>(value: Option<Result<T, AppError>>, ok: &'static str) -> Option<AnyView> {
    match value? {
        Ok(_) => Some(view! { <span class="form-status" role="status">{ok}</span> }.into_any()),
        Err(e) => Some(
            view! { <span class="form-status form-status--error" role="alert">{e.to_string()}</span> }
                .into_any(),
        ),
    }
}

/// One account: a summary line that opens into its editor.
#[component]
fn AccountItem(
    account: Account,
    projects: Vec<ProjectRef>,
    shown: RwSignal<Option<Shown>>,
    refresh: Callback<()>,
) -> impl IntoView {
    let id = account.id;
    let display = RwSignal::new(account.display_name.clone());
    let role = RwSignal::new(account.role);
    let active = RwSignal::new(account.active);
    let chosen = RwSignal::new(account.projects.clone());
    let may_create = RwSignal::new(account.may_create_projects);
    let new_password = RwSignal::new(String::new());
    let save = Action::new(|change: &AccountChange| update_account(change.clone()));
    let reset = Action::new(move |password: &String| reset_password(id, password.clone()));
    Effect::new(move |_| {
        if let Some(Ok(())) = save.value().get() {
            refresh.run(());
        }
    });
    let username = account.username.clone();
    Effect::new(move |_| match reset.value().get() {
        Some(Ok(Some(issued))) => shown.set(Some(Shown {
            what: "New password",
            issued,
        })),
        Some(Ok(None)) => new_password.set(String::new()),
        _ => {}
    });
    let summary_codes = codes(&account.projects, &projects, account.role);
    view! {
        <li class="account" data-username=username.clone()>
            <details>
                <summary>
                    <span class="account__name">{account.display_name.clone()}</span>
                    <code class="account__username">{username.clone()}</code>
                    <span class=format!("chip chip--role chip--{}", account.role.as_str())>{account.role.as_str()}</span>
                    {(!account.active).then(|| view! { <span class="chip chip--off">"Deactivated"</span> })}
                    {(account.role == Role::Editor && account.may_create_projects).then(|| view! {
                        <span class="chip">"creates projects"</span>
                    })}
                    <span class="account__projects muted">{summary_codes}</span>
                </summary>
                <form class="form account__editor" on:submit=move |ev| {
                    ev.prevent_default();
                    save.dispatch(AccountChange {
                        id,
                        display_name: display.get(),
                        role: role.get(),
                        active: active.get(),
                        projects: chosen.get(),
                        may_create_projects: may_create.get() && role.get() == Role::Editor,
                    });
                }>
                    <div class="form-row">
                        <label class="field">
                            <span class="field__label">"Display name"</span>
                            <input type="text" required maxlength=limits::NAME_MAX.to_string()
                                prop:value=display on:input=move |ev| display.set(event_target_value(&ev))/>
                        </label>
                        <RoleSelect role label="Role"/>
                    </div>
                    <ProjectPicker projects=projects.clone() chosen legend="Member of"/>
                    // Only an editor's right to ask for: admins always may, viewers never.
                    {move || (role.get() == Role::Editor).then(|| view! {
                        <label class="check">
                            <input type="checkbox" prop:checked=may_create
                                on:change=move |ev| may_create.set(event_target_checked(&ev))/>
                            <span>"May create projects (and becomes a member of each one made)"</span>
                        </label>
                    })}
                    <label class="check">
                        <input type="checkbox" prop:checked=active
                            on:change=move |ev| active.set(event_target_checked(&ev))/>
                        <span>"Active (a deactivated account cannot sign in; its sessions end)"</span>
                    </label>
                    <div class="form-actions">
                        <button type="submit" class="button button--primary" disabled=save.pending()>"Save changes"</button>
                        {move || outcome(save.value().get(), "Saved.")}
                    </div>
                </form>
                <form class="form account__password" on:submit=move |ev| {
                    ev.prevent_default();
                    reset.dispatch(new_password.get());
                }>
                    <label class="field">
                        <span class="field__label">"New password"</span>
                        <input type="password" autocomplete="new-password" maxlength="256"
                            placeholder="Leave blank to generate one"
                            prop:value=new_password on:input=move |ev| new_password.set(event_target_value(&ev))/>
                    </label>
                    <div class="form-actions">
                        <button type="submit" class="button" disabled=reset.pending()>"Reset password"</button>
                        {move || outcome(reset.value().get(), "Password changed; the account was signed out.")}
                    </div>
                </form>
            </details>
        </li>
    }
}

/// The form that adds an account.
#[component]
fn NewAccountForm(
    projects: Vec<ProjectRef>,
    shown: RwSignal<Option<Shown>>,
    refresh: Callback<()>,
) -> impl IntoView {
    let username = RwSignal::new(String::new());
    let display = RwSignal::new(String::new());
    let role = RwSignal::new(Role::Viewer);
    let password = RwSignal::new(String::new());
    let chosen = RwSignal::new(Vec::<i64>::new());
    let create = Action::new(|account: &NewAccount| create_account(account.clone()));
    Effect::new(move |_| {
        if let Some(Ok(issued)) = create.value().get() {
            if let Some(issued) = issued {
                shown.set(Some(Shown {
                    what: "Password",
                    issued,
                }));
            }
            refresh.run(());
        }
    });
    view! {
        <details class="admin-form">
            <summary class="button">"Add an account"</summary>
            <form class="form" aria-label="Add an account" on:submit=move |ev| {
                ev.prevent_default();
                create.dispatch(NewAccount {
                    username: username.get(),
                    display_name: display.get(),
                    role: role.get(),
                    password: password.get(),
                    projects: chosen.get(),
                });
            }>
                <div class="form-row">
                    <label class="field">
                        <span class="field__label">"User name"</span>
                        <input type="text" name="new-username" required autocomplete="off"
                            maxlength=limits::USERNAME_MAX.to_string() pattern="[a-z][a-z0-9._\\-]{2,31}"
                            title="3 to 32 lowercase letters, digits, dots, dashes or underscores, starting with a letter"
                            prop:value=username on:input=move |ev| username.set(event_target_value(&ev))/>
                    </label>
                    <label class="field">
                        <span class="field__label">"Display name"</span>
                        <input type="text" name="new-display-name" required maxlength=limits::NAME_MAX.to_string()
                            prop:value=display on:input=move |ev| display.set(event_target_value(&ev))/>
                    </label>
                    <RoleSelect role label="Role"/>
                </div>
                <label class="field">
                    <span class="field__label">"Password"</span>
                    <input type="password" name="new-password" autocomplete="new-password" maxlength="256"
                        placeholder="Leave blank to generate a strong one (12 characters at least)"
                        prop:value=password on:input=move |ev| password.set(event_target_value(&ev))/>
                </label>
                <ProjectPicker projects chosen legend="Member of (viewers and editors see only these projects)"/>
                <div class="form-actions">
                    <button type="submit" class="button button--primary" disabled=create.pending()>"Create account"</button>
                    {move || outcome(create.value().get(), "Account created.")}
                </div>
            </form>
        </details>
    }
}

/// Readable date of Unix seconds.
fn unix_date(secs: i64) -> String {
    Date::from_unix_seconds(secs)
        .map(Date::readable)
        .unwrap_or_default()
}

/// The API tokens, with a revoke button on the live ones.
#[component]
fn TokenTable(
    tokens: Vec<ApiTokenInfo>,
    projects: Vec<ProjectRef>,
    refresh: Callback<()>,
) -> impl IntoView {
    let revoke = Action::new(|id: &i64| revoke_api_token(*id));
    Effect::new(move |_| {
        if let Some(Ok(())) = revoke.value().get() {
            refresh.run(());
        }
    });
    if tokens.is_empty() {
        return view! { <p class="empty-state empty-state--inline">"No API tokens yet."</p> }
            .into_any();
    }
    view! {
        <div class="table-scroll" tabindex="0">
            <table class="data-table" aria-label="API tokens">
                <thead>
                    <tr><th>"Name"</th><th>"Role"</th><th>"Projects"</th><th>"Created"</th><th>"State"</th><th><span class="visually-hidden">"Action"</span></th></tr>
                </thead>
                <tbody>
                    {tokens.into_iter().map(|t| {
                        let id = t.id;
                        let live = t.revoked_at.is_none();
                        view! {
                            <tr data-token=t.name.clone()>
                                <td>{t.name.clone()}</td>
                                <td><span class=format!("chip chip--role chip--{}", t.role.as_str())>{t.role.as_str()}</span></td>
                                <td>{codes(&t.projects, &projects, t.role)}</td>
                                <td>{unix_date(t.created_at)} {t.created_by.map(|by| format!(" by {by}"))}</td>
                                <td>{match (t.revoked_at, t.expires_at) {
                                    (Some(at), _) => format!("Revoked {}", unix_date(at)),
                                    (None, Some(at)) => format!("Active until {}", unix_date(at)),
                                    (None, None) => "Active".to_string(),
                                }}{t.metrics_only.then_some(" · metrics only")}</td>
                                <td>{live.then(|| view! {
                                    <button type="button" class="button button--danger"
                                        disabled=revoke.pending()
                                        on:click=move |_| { revoke.dispatch(id); }>"Revoke"</button>
                                })}</td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
        {move || revoke.value().get().and_then(Result::err).map(|e| view! {
            <p class="form-status form-status--error" role="alert">{e.to_string()}</p>
        })}
    }
    .into_any()
}

/// The form that creates an API token.
#[component]
fn NewTokenForm(
    projects: Vec<ProjectRef>,
    shown: RwSignal<Option<Shown>>,
    refresh: Callback<()>,
) -> impl IntoView {
    let name = RwSignal::new(String::new());
    let role = RwSignal::new(Role::Viewer);
    let chosen = RwSignal::new(Vec::<i64>::new());
    // Days until it stops working by itself; empty: until revoked.
    let days = RwSignal::new(String::from("90"));
    let metrics_only = RwSignal::new(false);
    let create = Action::new(|token: &NewApiToken| create_api_token(token.clone()));
    Effect::new(move |_| {
        if let Some(Ok(issued)) = create.value().get() {
            shown.set(Some(Shown {
                what: "API token",
                issued,
            }));
            name.set(String::new());
            refresh.run(());
        }
    });
    view! {
        <details class="admin-form">
            <summary class="button">"Create an API token"</summary>
            <form class="form" aria-label="Create an API token" on:submit=move |ev| {
                ev.prevent_default();
                let expires_in_days = days.get().trim().parse::<u32>().ok();
                create.dispatch(NewApiToken {
                    name: name.get(),
                    role: role.get(),
                    projects: chosen.get(),
                    expires_in_days,
                    metrics_only: metrics_only.get(),
                });
            }>
                <div class="form-row">
                    <label class="field">
                        <span class="field__label">"Name"</span>
                        <input type="text" name="token-name" required maxlength=limits::NAME_MAX.to_string()
                            placeholder="e.g. Grafana, nightly export"
                            prop:value=name on:input=move |ev| name.set(event_target_value(&ev))/>
                    </label>
                    <RoleSelect role label="Role"/>
                    <label class="field">
                        <span class="field__label">"Expires after (days)"</span>
                        <input type="number" name="token-days" min="1"
                            max=crate::account::MAX_TOKEN_DAYS.to_string() placeholder="never"
                            prop:value=days on:input=move |ev| days.set(event_target_value(&ev))/>
                    </label>
                </div>
                <label class="check">
                    <input type="checkbox" name="token-metrics-only"
                        prop:checked=metrics_only
                        on:change=move |ev| metrics_only.set(event_target_checked(&ev))/>
                    " Only for reading the Prometheus metrics (GET /metrics)"
                </label>
                <ProjectPicker projects chosen legend="Projects it may reach"/>
                <div class="form-actions">
                    <button type="submit" class="button button--primary" disabled=create.pending()>"Create token"</button>
                    {move || outcome(create.value().get(), "Token created.")}
                </div>
            </form>
        </details>
    }
}
