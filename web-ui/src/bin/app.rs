fn main() {
    web_ui::app::start();
}
