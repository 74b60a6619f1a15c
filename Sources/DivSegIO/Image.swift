import DivSegCore
