from fanflow._cli import main

main()
