//! `edgeplay`: run Fastly Compute guests locally on Edgeplay's host core.

mod abi;
mod backends;
mod load;
mod relay;
mod report;
mod run;
mod serve;
mod state_dir;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "edgeplay",
    version,
    about = "Run Fastly Compute guests (.wasm) locally on Edgeplay's host core"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run one request through a guest and print the response like `curl -i`.
    ///
    /// The response (status line, headers, blank line, body) goes to stdout; the guest's
    /// stdout, stderr and log lines, its error, the backend requests and a summary go to
    /// stderr. Exit status: 0 when the guest answered, 1 when it failed (the 500 it produced
    /// is still printed), 2 when the module, the config or an argument is unusable.
    Run(run::RunArgs),
    /// Serve a guest on a local HTTP server, like `fastly compute serve`.
    ///
    /// The module is compiled once and every request gets a fresh instance on its own thread.
    /// Backends with a `url` are reached over the network; streaming responses are passed on
    /// as the guest writes them. One line per request is printed, with the guest's output.
    /// Stop it with Ctrl-C.
    Serve(ServeArgs),
    /// List every import the pinned `fastly-sys` declares and whether this host implements it.
    Abi(AbiArgs),
    /// Relay the playground's backend requests: for a backend with `"proxy": "http://ADDR"`,
    /// the browser sends through this what `fetch` alone cannot (its own `Host`, cookies, an
    /// origin without CORS). Anyone who can reach the address can use it: keep it on loopback.
    Relay(RelayArgs),
}

#[derive(clap::Args)]
struct RelayArgs {
    /// The address to listen on.
    #[arg(long, default_value = "127.0.0.1:7677")]
    addr: SocketAddr,
}

#[derive(clap::Args)]
struct ServeArgs {
    /// The guest module (a `wasm32-wasip1` build).
    wasm: PathBuf,
    /// The config: JSON, or a `fastly.toml` (its `[local_server]` section).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// The address to listen on.
    #[arg(long, default_value = "127.0.0.1:7676")]
    addr: SocketAddr,
    /// Keep KV stores and the cache in this directory (created if missing), across restarts.
    #[arg(long, value_name = "DIR")]
    state: Option<PathBuf>,
    /// Start from the config's initial store values, discarding what `--state` holds.
    #[arg(long, requires = "state")]
    reset: bool,
}

#[derive(clap::Args)]
struct AbiArgs {
    /// Print `[{"module", "name", "status", "reason"?}, …]` instead of a table.
    #[arg(long)]
    json: bool,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run(args) => run::run(args),
        Command::Serve(args) => serve::serve(args.wasm, args.config, args.addr, args.state, args.reset),
        Command::Relay(args) => relay::relay(args.addr),
        Command::Abi(args) => {
            abi::print(args.json);
            Ok(ExitCode::SUCCESS)
        }
    };
    result.unwrap_or_else(|message| {
        eprintln!("edgeplay: {message}");
        ExitCode::from(2)
    })
}
