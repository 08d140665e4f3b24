from creneau.entry import main

main()
