fn main() {
    web_ui::worker::start();
}
