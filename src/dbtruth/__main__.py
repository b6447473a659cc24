from dbtruth.cli import main

main()
