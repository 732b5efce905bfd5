fn main() -> std::process::ExitCode {
    mxspool::cli::main()
}
