//! Names a configuration the code tests in many places, so it is written once.

fn main() {
    cfg_aliases::cfg_aliases! {
        // The calls and answers only the leaders' screens use (reports, the team API, the team
        // view): in the leaders' app and every native build (ward server, desktop, tests), left
        // out of the members' phone app.
        team_api: { any(feature = "leader", not(target_arch = "wasm32")) },
    }
}
