" Syntax of heph.nvim's task listings (:Heph next, :Heph today).
if exists('b:current_syntax')
  finish
endif
syntax match hephlistHandle /^\S\+/
syntax keyword hephlistRed red
syntax keyword hephlistOrange orange
syntax keyword hephlistBlue blue
syntax match hephlistLate /\<\S\+ late\>/
syntax match hephlistDo /\<do \%(in \)\?\S\+\%( ago\)\?/
syntax match hephlistTag /+\S\+/
syntax match hephlistRecur /↻/
highlight default link hephlistHandle Identifier
highlight default link hephlistRed ErrorMsg
highlight default link hephlistOrange WarningMsg
highlight default link hephlistBlue Directory
highlight default link hephlistLate ErrorMsg
highlight default link hephlistDo Comment
highlight default link hephlistTag Comment
highlight default link hephlistRecur Special
let b:current_syntax = 'hephlist'
