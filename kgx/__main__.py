from kgx.cli import main

main()
