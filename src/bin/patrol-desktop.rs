//! The desktop app: the same screens and store as the PWA, with a file database.

fn main() {
    use dioxus::desktop::{Config, WindowBuilder};
    let head = format!("<style>{}</style>", patrol::ui::STYLE);
    let window = WindowBuilder::new()
        .with_title("Tuần tra")
        .with_inner_size(dioxus::desktop::LogicalSize::new(400.0, 760.0))
        .with_always_on_top(false);
    dioxus::LaunchBuilder::desktop()
        .with_cfg(
            Config::new()
                .with_window(window)
                .with_custom_head(head)
                .with_menu(None),
        )
        .launch(patrol::ui::App);
}
